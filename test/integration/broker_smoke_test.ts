/**
 * Proves the broker harness with the distribution's own Java client: what it produces on the
 * harness broker, it consumes back — plain, and with TLS and token authentication.
 */
import assert from "node:assert/strict";
import { pulsarUrls, sharedSecureBroker } from "../harness/pulsar.ts";
import { consumedContents, pulsarClient } from "../harness/java_client.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };

async function roundTrip(target: Parameters<typeof pulsarClient>[0]) {
  const topic = `persistent://public/default/smoke-${crypto.randomUUID()}`;
  const sent = ["alpha", "beta", "gamma"];
  // The subscription starts at Earliest, so it sees what was produced before it existed.
  await pulsarClient(target, ["produce", topic, "-m", sent.join(",")]);
  const output = await pulsarClient(target, [
    "consume",
    topic,
    "-s",
    "smoke",
    "-p",
    "Earliest",
    "-n",
    String(sent.length),
  ]);
  assert.deepEqual(consumedContents(output), sent);
}

Deno.test({
  name: "Java client round trip on the harness broker",
  ...integration,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    await roundTrip({ serviceUrl });
  },
});

Deno.test({
  name: "secured broker: TLS with a token works, a forged token is refused",
  ...integration,
  async fn() {
    const broker = await sharedSecureBroker();
    const secure = broker.secure!;
    await roundTrip({
      serviceUrl: secure.tlsServiceUrl,
      token: secure.adminToken,
      caCertFile: secure.caCertFile,
    });
    // Same claims, signed with a different key: the broker must refuse it.
    const forged = secure.adminToken.replace(
      /\.[^.]+$/,
      ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    await assert.rejects(
      pulsarClient({ serviceUrl: broker.serviceUrl, token: forged }, [
        "produce",
        "persistent://public/default/x",
        "-m",
        "no",
      ]),
      /authenticat|unauthori[sz]ed/i,
    );
  },
});
