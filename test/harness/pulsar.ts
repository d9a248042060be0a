/**
 * A real Apache Pulsar broker for tests and demos: the official server distribution from Maven
 * Central, cached outside the repository, started as `bin/pulsar standalone` on free loopback ports
 * with a modest heap, ready once `public/default` answers on the admin REST API.
 *
 * `PULSAR_SERVICE_URL` / `PULSAR_ADMIN_URL` point {@linkcode pulsarUrls} at an existing broker.
 *
 * @module
 */
import { EdgepipeError } from "../../lib/errors.ts";
import { cacheDir, freePort, logTail, run, waitFor } from "./process.ts";
import { type SecureMaterial, writeSecureMaterial } from "./secure_material.ts";

/** The Pulsar server distribution the harness runs (4.0.x LTS). */
export const PULSAR_VERSION = "4.0.8";

/** The broker cannot be set up or started; the message says why and what to do. */
export class BrokerStartError extends EdgepipeError {}

/** Where clients reach a broker. */
export interface BrokerUrls {
  serviceUrl: string;
  adminUrl: string;
}

/** Options for {@linkcode startBroker}. */
export interface BrokerOptions {
  /** Token authentication and TLS listeners (see {@linkcode RunningBroker.secure}). */
  secure?: boolean;
  /** Maximum Java heap in MiB (default 768). */
  heapMiB?: number;
  /** Fixed plain ports instead of free ones. */
  brokerPort?: number;
  webPort?: number;
  /** How long to wait for `public/default` (default 180 s). */
  startTimeoutMs?: number;
  /** Extra `key=value` lines for standalone.conf. */
  config?: Record<string, string>;
}

/** A broker this process started. */
export interface RunningBroker extends BrokerUrls {
  /** Token, TLS URLs and certificate files, when started with `secure: true`. */
  secure?: SecureMaterial & { tlsServiceUrl: string; tlsAdminUrl: string };
  dataDir: string;
  logFile: string;
  /** Stops the broker and starts it again on the same ports and data (for recovery tests). */
  restart(): Promise<void>;
  /**
   * Kills the broker with SIGKILL (a crash: nothing flushed, connections dropped) and waits for
   * it to exit; `restart()` starts it again on the same ports and data.
   */
  kill(): Promise<void>;
  /** Stops the broker (SIGTERM, then SIGKILL after a bounded wait) and removes its data. */
  stop(): Promise<void>;
}

/** Returns the distribution's home, downloading and unpacking it into the cache when missing. */
export async function ensureDistribution(version = PULSAR_VERSION): Promise<string> {
  const cache = cacheDir();
  const home = `${cache}/apache-pulsar-${version}`;
  if (await exists(`${home}/bin/pulsar`)) return home;
  await Deno.mkdir(`${cache}/dl`, { recursive: true });
  const artifact = `org.apache.pulsar:pulsar-server-distribution:${version}:tar.gz:bin`;
  const tarball = `${cache}/dl/pulsar-server-distribution-${version}-bin.tar.gz`;
  if (!(await exists(tarball))) {
    console.error(`edgepipe harness: downloading ${artifact} from Maven Central (about 250 MB)`);
    const mvn = await run("mvn", [
      "-q",
      "-B",
      "dependency:copy",
      `-Dartifact=${artifact}`,
      `-DoutputDirectory=${cache}/dl`,
    ]).catch((cause) => {
      throw new BrokerStartError("cannot run mvn: install Maven (apt-get install maven)", {
        cause,
      });
    });
    if (!mvn.ok) {
      throw new BrokerStartError(
        `downloading ${artifact} failed (is Maven Central reachable? is the disk full?):\n${
          mvn.output.slice(-2000)
        }`,
      );
    }
  }
  // Unpack beside the cache and rename, so a half-unpacked tree is never taken for a good one.
  const staging = await Deno.makeTempDir({ dir: cache, prefix: ".unpack-" });
  const tar = await run("tar", ["xzf", tarball, "-C", staging]);
  if (!tar.ok) {
    await Deno.remove(staging, { recursive: true });
    await Deno.remove(tarball).catch(() => {});
    throw new BrokerStartError(`unpacking ${tarball} failed (disk full?):\n${tar.output}`);
  }
  await Deno.rename(`${staging}/apache-pulsar-${version}`, home).catch(async (cause) => {
    if (!(await exists(`${home}/bin/pulsar`))) throw cause; // a parallel unpack won the race
  });
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  return home;
}

/** Starts a standalone broker on free loopback ports and waits until `public/default` exists. */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  await checkJava();
  const home = await ensureDistribution();
  const dataDir = await Deno.makeTempDir({ prefix: "edgepipe-pulsar-" });
  const brokerPort = options.brokerPort ?? await freePort();
  const webPort = options.webPort ?? await freePort();
  const bookiePort = await freePort();
  for (const port of [brokerPort, webPort]) ensurePortFree(port);

  const conf: Record<string, string> = {
    advertisedAddress: "127.0.0.1",
    bindAddress: "127.0.0.1",
    brokerServicePort: String(brokerPort),
    webServicePort: String(webPort),
    // Tests create topics freely; keep the broker's own housekeeping quiet and quick.
    allowAutoTopicCreation: "true",
    brokerDeleteInactiveTopicsEnabled: "false",
    // The suite creates thousands of topics in public/default: past 1,000 per bundle the broker
    // splits and unloads bundles, and requests in flight get "ServiceNotReady … not served by
    // this instance" (seen once in a full run). One broker, one fixed set of bundles.
    loadBalancerAutoBundleSplitEnabled: "false",
    loadBalancerAutoUnloadSplitBundlesEnabled: "false",
    ...options.config,
  };
  let secure: RunningBroker["secure"];
  if (options.secure) {
    const material = await writeSecureMaterial(home, `${dataDir}/secure`);
    const tlsPort = await freePort();
    const webTlsPort = await freePort();
    // `config` still wins, so a test can add authentication providers to the secure set.
    Object.assign(conf, material.brokerConfig(tlsPort, webTlsPort), options.config);
    secure = {
      ...material,
      tlsServiceUrl: `pulsar+ssl://127.0.0.1:${tlsPort}`,
      tlsAdminUrl: `https://127.0.0.1:${webTlsPort}`,
    };
  }
  const confFile = `${dataDir}/standalone.conf`;
  await Deno.writeTextFile(confFile, await renderConfig(home, conf));

  const logFile = `${dataDir}/broker.log`;
  const urls = {
    serviceUrl: `pulsar://127.0.0.1:${brokerPort}`,
    adminUrl: `http://127.0.0.1:${webPort}`,
  };
  const heap = options.heapMiB ?? 768;
  const timeoutMs = options.startTimeoutMs ?? 180_000;

  let child: Deno.ChildProcess | undefined;
  const launch = async () => {
    const standaloneArgs = [
      "standalone",
      "--no-functions-worker",
      "--no-stream-storage",
      `--metadata-dir=${dataDir}/metadata`,
      `--bookkeeper-dir=${dataDir}/bookkeeper`,
      `--bookkeeper-port=${bookiePort}`,
    ];
    // `exec` all the way down, so the child is the JVM itself and a signal reaches it.
    child = new Deno.Command("sh", {
      args: ["-c", `exec "$0" "$@" >>'${logFile}' 2>&1`, `${home}/bin/pulsar`, ...standaloneArgs],
      env: {
        PULSAR_STANDALONE_CONF: confFile,
        PULSAR_LOG_DIR: `${dataDir}/logs`,
        PULSAR_MEM: `-Xms${Math.min(256, heap)}m -Xmx${heap}m -XX:MaxDirectMemorySize=${heap}m`,
        PULSAR_GC: "-XX:+UseG1GC",
        PULSAR_GC_LOG: " ",
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const exited = child.status.then((status) => status);
    try {
      await waitFor(
        async () => {
          const done = await Promise.race([exited, Promise.resolve(undefined)]);
          if (done) {
            throw new BrokerStartError(
              `the broker exited with code ${done.code} while starting; log tail:\n${await logTail(
                logFile,
              )}`,
            );
          }
          return await namespaceReady(urls.adminUrl, secure?.adminToken);
        },
        timeoutMs,
        async () =>
          new BrokerStartError(
            `the broker did not create public/default within ${
              timeoutMs / 1000
            }s; log tail:\n${await logTail(
              logFile,
            )}`,
          ),
      );
    } catch (err) {
      await terminate();
      throw err;
    }
  };
  const terminate = async () => {
    if (!child) return;
    const current = child;
    child = undefined;
    try {
      current.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        current.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 20_000);
    await current.status;
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (err) {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw err;
  }
  return {
    ...urls,
    secure,
    dataDir,
    logFile,
    async restart() {
      await terminate();
      await launch();
    },
    async kill() {
      if (!child) return;
      const current = child;
      child = undefined;
      try {
        current.kill("SIGKILL");
      } catch { /* already gone */ }
      await current.status;
    },
    async stop() {
      await terminate();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

let shared: Promise<BrokerUrls> | undefined;

/**
 * URLs of the broker tests should use: `PULSAR_SERVICE_URL` / `PULSAR_ADMIN_URL` when set,
 * otherwise one broker started for this process (stopped when the process exits).
 */
export function pulsarUrls(): Promise<BrokerUrls> {
  const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL");
  if (serviceUrl) {
    const adminUrl = Deno.env.get("PULSAR_ADMIN_URL") ?? "http://127.0.0.1:8080";
    return Promise.resolve({ serviceUrl, adminUrl });
  }
  shared ??= startBroker().then((broker) => {
    globalThis.addEventListener("unload", () => {
      // Best effort: the process is ending, so only a signal can be sent.
      new Deno.Command("pkill", { args: ["-f", broker.dataDir] }).outputSync();
    });
    return broker;
  });
  return shared;
}

let sharedSecure: Promise<RunningBroker> | undefined;

/**
 * One secured broker (TLS, token authentication, default settings) for every test file of this
 * process that needs one and changes nothing of the broker's own: it starts on first use and is
 * stopped when the process exits. A test that restarts or reconfigures a broker starts its own.
 */
export function sharedSecureBroker(): Promise<RunningBroker> {
  sharedSecure ??= startBroker({ secure: true, heapMiB: 512 }).then((broker) => {
    globalThis.addEventListener("unload", () => {
      new Deno.Command("pkill", { args: ["-9", "-f", broker.dataDir] }).outputSync();
      try {
        Deno.removeSync(broker.dataDir, { recursive: true });
      } catch { /* still held, or gone */ }
    });
    return broker;
  });
  return sharedSecure;
}

async function namespaceReady(adminUrl: string, token?: string): Promise<boolean> {
  try {
    const response = await fetch(`${adminUrl}/admin/v2/namespaces/public`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
    const body = await response.text();
    return response.ok && body.includes("public/default");
  } catch {
    return false;
  }
}

async function renderConfig(home: string, overrides: Record<string, string>): Promise<string> {
  const lines = (await Deno.readTextFile(`${home}/conf/standalone.conf`)).split("\n");
  const seen = new Set<string>();
  const out = lines.map((line) => {
    const key = /^([A-Za-z0-9_.]+)=/.exec(line)?.[1];
    if (key === undefined || !(key in overrides)) return line;
    seen.add(key);
    return `${key}=${overrides[key]}`;
  });
  for (const [key, value] of Object.entries(overrides)) {
    if (!seen.has(key)) out.push(`${key}=${value}`);
  }
  return out.join("\n");
}

async function checkJava(): Promise<void> {
  const java = await run("java", ["-version"]).catch(() => undefined);
  if (!java?.ok) {
    throw new BrokerStartError(
      "Java is missing: the Pulsar broker needs Java 17 or later (apt-get install openjdk-17-jre-headless)",
    );
  }
}

function ensurePortFree(port: number): void {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (cause) {
    throw new BrokerStartError(
      `port ${port} is taken: stop what listens there or choose another port`,
      { cause },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
