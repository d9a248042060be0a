/**
 * A lookup join against a compacted Pulsar topic on the real broker: records of three airports
 * (one updated, one deleted by an empty message), compacted by the broker (its admin REST API,
 * checked done and a compacted ledger written), then read as a table. The table is loaded from
 * the compacted view — one message per live key, so fewer messages than were produced — holds
 * the latest record of each key and not the deleted one; a record produced after compaction is
 * applied while the table is followed; and `filter --join topic:` and a pipeline file's `join`
 * stage join the same way.
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { PulsarClient } from "../../lib/pulsar/mod.ts";
import { openTopicTable } from "../../lib/stages/topic_table.ts";

const { serviceUrl, adminUrl } = await pulsarUrls();

async function admin(method: string, path: string): Promise<unknown> {
  const response = await fetch(`${adminUrl}/admin/v2/persistent/public/default/${path}`, {
    method,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text === "" ? null : JSON.parse(text);
}

/** Asks the broker to compact `name` and waits until it says the compaction succeeded. */
async function compact(name: string): Promise<void> {
  await admin("PUT", `${name}/compaction`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { status, lastError } = await admin("GET", `${name}/compaction`) as {
      status: string;
      lastError?: string;
    };
    if (status === "SUCCESS") return;
    assert.notEqual(status, "ERROR", lastError);
    assert.ok(Date.now() < deadline, `compaction still ${status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const airport = (iata: string, city: string) => JSON.stringify({ iata, city });

Deno.test({
  name: "a compacted topic read as a table: the compacted view, latest per key, deletes, then live",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const name = `airports-compacted-${crypto.randomUUID().slice(0, 8)}`;
    const topic = `persistent://public/default/${name}`;
    const client = new PulsarClient({ serviceUrl });
    try {
      const producer = await client.createProducer({ topic });
      const produced = [
        { key: "SFO", payload: airport("SFO", "San Francisco") },
        { key: "LAX", payload: airport("LAX", "Los Angeles") },
        { key: "SFO", payload: airport("SFO", "South San Francisco") },
        { key: "JFK", payload: airport("JFK", "New York") },
        { key: "LAX", payload: new Uint8Array() },
      ];
      for (const message of produced) await producer.send(message);
      await compact(name);
      const internal = await admin("GET", `${name}/internalStats`) as {
        compactedLedger?: { ledgerId: number };
      };
      assert.ok((internal.compactedLedger?.ledgerId ?? -1) >= 0, JSON.stringify(internal));

      const live = await openTopicTable(client, topic, "iata", () => {});
      try {
        // The compacted view holds one message per key left: SFO's latest and JFK (LAX deleted).
        assert.equal(live.applied, 2, "loaded from the compacted view, not the whole log");
        assert.deepEqual(
          [...live.table].sort(([a], [b]) => a.localeCompare(b)),
          [["JFK", { iata: "JFK", city: "New York" }], ["SFO", {
            iata: "SFO",
            city: "South San Francisco",
          }]],
        );
        await producer.send({ key: "LAX", payload: airport("LAX", "Inglewood") });
        const deadline = Date.now() + 20_000;
        while (!live.table.has("LAX") && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(live.table.get("LAX"), { iata: "LAX", city: "Inglewood" });
        assert.equal(live.applied, 3);
      } finally {
        await live.close();
      }
      await producer.send({ key: "JFK", payload: new Uint8Array() });

      const joined = await runEdgepipe(
        [
          "filter",
          "--join",
          `topic:${topic}`,
          "--on",
          "value.origin=iata",
          "--as",
          "airport",
          "true",
        ],
        {
          env: { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" },
          stdin: ["SFO", "LAX", "JFK"].map((o) => JSON.stringify({ value: { origin: o } }) + "\n")
            .join(""),
        },
      );
      assert.equal(joined.code, 0, joined.stderr);
      const cities = joined.stdout.trim().split("\n").map((l) => JSON.parse(l))
        .map((r: { airport: { city: string } | null }) => r.airport?.city ?? null);
      assert.deepEqual(cities, ["South San Francisco", "Inglewood", null]);

      // The same lookup as a stage of a pipeline file.
      const dir = await Deno.makeTempDir({ prefix: "edgepipe-compacted-run-" });
      const file = `${dir}/p.yaml`;
      await Deno.writeTextFile(
        file,
        `source: { stdin: {} }\nstages:\n  - join: { file: 'topic:${topic}', on: value.origin=iata, as: airport }\nsink: stdout\n`,
      );
      const piped = await runEdgepipe(["run", file], {
        env: { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" },
        stdin: ["LAX", "SFO"].map((o) => JSON.stringify({ value: { origin: o } }) + "\n").join(""),
      });
      await Deno.remove(dir, { recursive: true });
      assert.equal(piped.code, 0, piped.stderr);
      assert.deepEqual(
        piped.stdout.trim().split("\n").map((l) => JSON.parse(l).airport?.city ?? null),
        ["Inglewood", "South San Francisco"],
      );
    } finally {
      await client.close();
    }
  },
});
