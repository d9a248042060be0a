/**
 * The official Java command-line client from the broker's distribution (`bin/pulsar-client`),
 * the interop peer for edgepipe's own client.
 *
 * @module
 */
import { ensureDistribution } from "./pulsar.ts";
import { run } from "./process.ts";

/** Connection settings for the Java client. */
export interface JavaClientTarget {
  serviceUrl: string;
  token?: string;
  caCertFile?: string;
  /** `--auth-plugin` / `--auth-params` given as they are (e.g. OAuth2 JSON params). */
  authPlugin?: string;
  authParams?: string;
  /** A client.conf for the tool (`PULSAR_CLIENT_CONF`); `serviceUrl` still wins. */
  clientConf?: string;
}

/** Runs `bin/pulsar-client <args>` against `target`; throws with its output when it fails. */
export async function pulsarClient(target: JavaClientTarget, args: string[]): Promise<string> {
  const home = await ensureDistribution();
  const connection = [`--url=${target.serviceUrl}`];
  if (target.token) {
    connection.push(
      "--auth-plugin=org.apache.pulsar.client.impl.auth.AuthenticationToken",
      `--auth-params=token:${target.token}`,
    );
  }
  if (target.authPlugin) connection.push(`--auth-plugin=${target.authPlugin}`);
  if (target.authParams) connection.push(`--auth-params=${target.authParams}`);
  if (target.caCertFile) connection.push(`--tlsTrustCertsFilePath=${target.caCertFile}`);
  const result = await run(`${home}/bin/pulsar-client`, [...connection, ...args], {
    env: {
      PULSAR_MEM: "-Xmx256m",
      PULSAR_LOG_LEVEL: "warn",
      ...(target.clientConf ? { PULSAR_CLIENT_CONF: target.clientConf } : {}),
    },
  });
  if (!result.ok) {
    throw new Error(
      `pulsar-client ${args[0]} exited with ${result.code}:\n${result.output.slice(-3000)}`,
    );
  }
  return result.output;
}

/** Parses the `content:` of each message `pulsar-client consume` printed. */
export function consumedContents(output: string): string[] {
  return [...output.matchAll(/^.*content:(.*)$/gm)].map((match) => match[1]);
}

/** One message as `pulsar-client consume -mp` (print metadata) shows it. */
export interface JavaMessage {
  /** `null` when the message has no key. */
  key: string | null;
  /** 0 when the message has no event time. */
  eventTime: number;
  properties: Record<string, string>;
  /** The payload as text. */
  content: string;
  /** The name of the producer that sent it. */
  producerName: string;
}

/**
 * Reads `count` messages of `topic` from the earliest with the Java client and its metadata
 * printout. Property keys and values must not contain `, ` or `=` (the printout does not quote).
 * With `regex`, `topic` is a pattern and every existing topic it matches is read (in order per
 * topic, interleaved between topics; `producerName` tells them apart).
 */
export async function javaConsume(
  target: JavaClientTarget,
  topic: string,
  count: number,
  { regex = false }: { regex?: boolean } = {},
): Promise<JavaMessage[]> {
  const output = await pulsarClient(target, [
    "consume",
    ...(regex ? ["--regex"] : []),
    topic,
    "-s",
    `java-${crypto.randomUUID()}`,
    "-p",
    "Earliest",
    "-n",
    String(count),
    "-mp",
  ]);
  const pattern =
    /^publishTime:\[\d+\], eventTime:\[(\d+)\], key:\[(.*?)\], properties:\[(.*?)\], content:(.*), event-time:.*?, producer-name:([^,]*),/gm;
  return [...output.matchAll(pattern)].map((m) => ({
    eventTime: Number(m[1]),
    key: m[2] === "null" ? null : m[2],
    properties: Object.fromEntries(
      m[3] === "" ? [] : m[3].split(", ").map((pair) => {
        const eq = pair.indexOf("=");
        return [pair.slice(0, eq), pair.slice(eq + 1)];
      }),
    ),
    content: m[4],
    producerName: m[5],
  }));
}

/**
 * A small Java program (one source file) compiled once per test file against the distribution's
 * jars; the function runs its `main` with `args` and returns what it printed, throwing with its
 * output when it fails.
 */
export function javaProgram(
  source: string,
  mainClass: string,
): (args: string[]) => Promise<string> {
  let classpath: Promise<string> | undefined;
  const compile = async () => {
    const jars = `${await ensureDistribution()}/lib/*`;
    const classes = await Deno.makeTempDir({ prefix: `${mainClass}-` });
    const javac = await run("javac", ["-nowarn", "-cp", jars, "-d", classes, source]);
    if (!javac.ok) throw new Error(`javac ${source} failed:\n${javac.output}`);
    return `${classes}:${jars}`;
  };
  return async (args) => {
    const cp = await (classpath ??= compile());
    const result = await run("java", ["-Xmx256m", "-cp", cp, mainClass, ...args]);
    if (!result.ok) {
      throw new Error(`${mainClass} ${args[0]} failed:\n${result.output.slice(-3000)}`);
    }
    return result.output;
  };
}
