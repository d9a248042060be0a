/**
 * A Mosquitto broker (Debian's package, `apt-get install mosquitto mosquitto-clients`) started by a
 * test on free ports with a generated configuration: a plain listener without authentication, a
 * plain listener with a password file (made by `mosquitto_passwd`), and a TLS listener with
 * openssl-made certificates that also asks for (and checks) a client certificate when one is sent.
 * `mosquitto_pub` / `mosquitto_sub` are the independent peers.
 *
 * @module
 */
import { freePort, logTail, run, waitFor } from "./process.ts";
import { type SecureMaterial, writeSecureMaterial } from "./secure_material.ts";

/** A running broker. */
export interface RunningMosquitto {
  /** Plain listener, anonymous access. */
  port: number;
  /** Plain listener that needs `user` / `password`. */
  authPort: number;
  /** TLS listener (certificates in `tls`), anonymous access. */
  tlsPort: number;
  /** The user the password file knows. */
  user: string;
  /** Its password. */
  password: string;
  /** CA, server and client certificates. */
  tls: SecureMaterial;
  /** The directory with the config, the log and the persistence file. */
  dir: string;
  /** Stops the broker (SIGKILL with `kill`, to test a broker crash) and removes `dir`. */
  stop(options?: { kill?: boolean; keepDir?: boolean }): Promise<void>;
  /** Starts the broker again on the same ports, with the same persistence. */
  restart(): Promise<void>;
}

/** Broker settings that the tests need: no bound on queued or in-flight QoS 1/2 messages. */
function config(
  dir: string,
  ports: { port: number; authPort: number; tlsPort: number },
  tls: SecureMaterial,
) {
  return [
    "per_listener_settings true",
    // Run as root (CI), Mosquitto would switch to its own user, who cannot read the temp dir.
    "user root",
    `persistence true`,
    `persistence_location ${dir}/`,
    `log_dest file ${dir}/mosquitto.log`,
    "log_type error",
    "log_type warning",
    "log_type notice",
    // A persistent session keeps every unacknowledged message while its client is away; the
    // default (1000 queued, 20 in flight) would drop or throttle what the tests count.
    "max_queued_messages 0",
    "max_inflight_messages 1000",
    `listener ${ports.port} 127.0.0.1`,
    "allow_anonymous true",
    `listener ${ports.authPort} 127.0.0.1`,
    "allow_anonymous false",
    `password_file ${dir}/passwd`,
    `listener ${ports.tlsPort} 127.0.0.1`,
    "allow_anonymous true",
    `cafile ${tls.caCertFile}`,
    `certfile ${tls.serverCertFile}`,
    `keyfile ${tls.serverKeyFile}`,
    "require_certificate false",
    "",
  ].join("\n");
}

/** Starts Mosquitto; throws with the log's tail when it does not listen within 10 s. */
export async function startMosquitto(): Promise<RunningMosquitto> {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-mosquitto-" });
  const tls = await writeSecureMaterial("", `${dir}/tls`);
  const ports = { port: await freePort(), authPort: await freePort(), tlsPort: await freePort() };
  const user = "edge";
  const password = `pw-${crypto.randomUUID()}`;
  const passwd = await run("mosquitto_passwd", ["-b", "-c", `${dir}/passwd`, user, password]);
  if (!passwd.ok) throw new Error(`mosquitto_passwd failed: ${passwd.output}`);
  await Deno.writeTextFile(`${dir}/mosquitto.conf`, config(dir, ports, tls));
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    child = new Deno.Command("mosquitto", {
      args: ["-c", `${dir}/mosquitto.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const listening = async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: ports.port })).close();
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(
      listening,
      10_000,
      async () => new Error(`mosquitto did not start:\n${await logTail(`${dir}/mosquitto.log`)}`),
    );
  };
  await start();
  return {
    ...ports,
    user,
    password,
    tls,
    dir,
    async stop(options = {}) {
      try {
        child?.kill(options.kill ? "SIGKILL" : "SIGTERM");
      } catch { /* already gone */ }
      await child?.status;
      child = undefined;
      if (!options.keepDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    async restart() {
      await start();
    },
  };
}

/** `mosquitto_pub` with `args`; throws with its output when it fails. */
export async function mosquittoPub(args: string[]): Promise<void> {
  const result = await run("mosquitto_pub", args);
  if (!result.ok) throw new Error(`mosquitto_pub failed: ${result.output}`);
}

/**
 * Publishes `lines` (one message each) with QoS `qos` through `mosquitto_pub -l` (it reads
 * messages from stdin, one per line), 20,000 lines per process: one `mosquitto_pub -l` given
 * 100,000 lines at full speed published only about 35,000 of them (mosquitto 2.0.11; an
 * independent `mosquitto_sub` received the same count), in chunks every line arrives.
 */
export async function mosquittoPubLines(
  port: number,
  topic: string,
  lines: Iterable<string>,
  qos = 1,
): Promise<void> {
  let chunk: string[] = [];
  for (const line of lines) {
    chunk.push(line);
    if (chunk.length === 20_000) {
      await publishChunk(port, topic, chunk, qos);
      chunk = [];
    }
  }
  if (chunk.length > 0) await publishChunk(port, topic, chunk, qos);
}

async function publishChunk(port: number, topic: string, lines: string[], qos: number) {
  const child = new Deno.Command("mosquitto_pub", {
    args: ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-q", String(qos), "-l"],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`mosquitto_pub failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** A running `mosquitto_sub`: its output lines once it exits (after `count` messages or `-W`). */
export function startMosquittoSub(
  port: number,
  topic: string,
  count: number,
  extra: string[] = [],
  timeoutSeconds = 60,
): Promise<string[]> {
  const child = new Deno.Command("mosquitto_sub", {
    args: [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-t",
      topic,
      "-C",
      String(count),
      "-W",
      String(timeoutSeconds),
      ...extra,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return child.output().then((out) => {
    const text = new TextDecoder().decode(out.stdout);
    return text.split("\n").filter((line) => line !== "");
  });
}
