/**
 * Through a Pulsar proxy (the distribution's `bin/pulsar proxy`, statically pointed at the test
 * broker): lookups answer "proxy through the service URL", so the client connects to the proxy and
 * names the broker in CONNECT's `proxy_to_broker_url`. Round trip, then a cut connection.
 */
import assert from "node:assert/strict";
import { pulsarUrls } from "../harness/pulsar.ts";
import { freePort, logTail, waitFor } from "../harness/process.ts";
import { PulsarClient } from "../../lib/pulsar/mod.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();
const home = Deno.env.get("PULSAR_HOME") ??
  `${Deno.env.get("HOME")}/.cache/edgepipe/apache-pulsar-4.0.8`;

/** Starts a proxy on free ports; returns its service URL and a stop function. */
async function startProxy(): Promise<{ url: string; log: string; stop(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-proxy-" });
  const port = await freePort();
  const webPort = await freePort();
  const base = await Deno.readTextFile(`${home}/conf/proxy.conf`);
  const overrides: Record<string, string> = {
    brokerServiceURL: serviceUrl,
    brokerWebServiceURL: adminUrl,
    servicePort: String(port),
    webServicePort: String(webPort),
    bindAddress: "127.0.0.1",
    clusterName: "standalone",
    // The harness broker listens on a free port, not the proxy's default 6650/6651.
    brokerProxyAllowedTargetPorts: new URL(serviceUrl).port,
  };
  const conf = base.split("\n").filter((line) => !(line.split("=")[0] in overrides))
    .concat(Object.entries(overrides).map(([k, v]) => `${k}=${v}`)).join("\n");
  await Deno.writeTextFile(`${dir}/proxy.conf`, conf);
  const log = `${dir}/proxy.log`;
  const child = new Deno.Command("sh", {
    args: ["-c", `exec "$0" proxy >>'${log}' 2>&1`, `${home}/bin/pulsar`],
    env: { PULSAR_PROXY_CONF: `${dir}/proxy.conf`, PULSAR_MEM: "-Xmx256m", PULSAR_LOG_DIR: dir },
    stdin: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitFor(
      async () => (await Deno.readTextFile(log).catch(() => "")).includes("Started Pulsar Proxy"),
      90_000,
      async () => new Error(`the proxy did not start:\n${await logTail(log)}`),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `pulsar://127.0.0.1:${port}`, log, stop };
}

Deno.test("through a proxy: round trip, and recovery after the connection is cut", async () => {
  const proxy = await startProxy();
  const client = new PulsarClient({
    serviceUrl: proxy.url,
    backoff: { initialMs: 50, maxMs: 500 },
  });
  try {
    const topic = `persistent://public/default/proxy-${crypto.randomUUID().slice(0, 8)}`;
    const consumer = await client.subscribe({ topic, subscription: "s" });
    const producer = await client.createProducer({ topic, compression: "LZ4" });
    await producer.send({ payload: "via proxy", key: "k" });
    const msg = await consumer.receive(10_000);
    assert.equal(msg.text(), "via proxy");
    assert.equal(msg.key, "k");
    consumer.ack(msg);
    // Every socket goes to the proxy, none straight to the broker.
    const connections = await client.pool.connections();
    assert.ok(connections.length >= 1);
    for (const conn of connections) assert.equal(conn.url, proxy.url);
    for (const conn of connections) conn.simulateNetworkFailure();
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => producer.send({ payload: `after-${i}` })),
    );
    assert.equal(ids.length, 50);
    const got = new Set<string>();
    while ([...got].filter((t) => t.startsWith("after-")).length < 50) {
      const m = await consumer.receive(15_000);
      consumer.ack(m);
      got.add(m.text());
    }
    // An ack still buffered when the socket was cut is lost: that message may come once more.
    got.delete("via proxy");
    assert.equal(got.size, 50);
  } catch (error) {
    // The proxy's own account of a refusal ("Target broker cannot be validated"…) says why.
    throw new Error(`${(error as Error).message}\nproxy log:\n${await logTail(proxy.log, 40)}`, {
      cause: error,
    });
  } finally {
    await client.close();
    await proxy.stop();
  }
});
