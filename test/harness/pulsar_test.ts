/**
 * The broker harness fails the way a person needs: one message naming the cause and what to do,
 * with the broker's log tail where there is one, and never a hang.
 */
import assert from "node:assert/strict";
import { BrokerStartError, ensureDistribution, startBroker } from "./pulsar.ts";

const harness = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "a taken port is named, with what to do",
  ...harness,
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    try {
      await assert.rejects(
        startBroker({ brokerPort: port }),
        (err: Error) =>
          err instanceof BrokerStartError &&
          err.message === `port ${port} is taken: stop what listens there or choose another port`,
      );
    } finally {
      listener.close();
    }
  },
});

Deno.test({
  name: "missing Java is said before anything is downloaded",
  ...harness,
  async fn() {
    const path = Deno.env.get("PATH")!;
    const empty = await Deno.makeTempDir();
    Deno.env.set("PATH", empty);
    try {
      await assert.rejects(startBroker(), BrokerStartError, "Java is missing");
    } finally {
      Deno.env.set("PATH", path);
      await Deno.remove(empty);
    }
  },
});

Deno.test({
  name: "a distribution Maven Central does not have is a clear download error",
  ...harness,
  async fn() {
    const cache = await Deno.makeTempDir();
    const before = Deno.env.get("EDGEPIPE_CACHE");
    Deno.env.set("EDGEPIPE_CACHE", cache);
    try {
      await assert.rejects(
        ensureDistribution("0.0.0-no-such-version"),
        (err: Error) =>
          err instanceof BrokerStartError &&
          /downloading org\.apache\.pulsar:pulsar-server-distribution:0\.0\.0-no-such-version/
            .test(err.message),
      );
    } finally {
      if (before === undefined) Deno.env.delete("EDGEPIPE_CACHE");
      else Deno.env.set("EDGEPIPE_CACHE", before);
      await Deno.remove(cache, { recursive: true });
    }
  },
});

Deno.test({
  name: "a broker that dies while starting is reported with its log tail, not waited for",
  ...harness,
  async fn() {
    await assert.rejects(
      startBroker({ config: { brokerServicePort: "not-a-port" }, startTimeoutMs: 120_000 }),
      (err: Error) =>
        err instanceof BrokerStartError &&
        /exited with code \d+ while starting; log tail:\n/.test(err.message) &&
        err.message.includes("not-a-port"),
    );
    // The start timeout would fail with a different error, without the exit code and log tail.
  },
});

Deno.test({
  name: "a broker not ready in time is stopped and reported with its log tail",
  ...harness,
  async fn() {
    await assert.rejects(
      startBroker({ startTimeoutMs: 1_000 }),
      (err: Error) =>
        err instanceof BrokerStartError &&
        err.message.startsWith("the broker did not create public/default within 1s; log tail:"),
    );
  },
});
