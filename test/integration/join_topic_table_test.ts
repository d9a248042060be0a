/**
 * A lookup join against a Pulsar topic read as a table (`filter --join topic:<topic>`) on the
 * real broker: the reference records (real airports) are produced to a topic; the join sees
 * every one of them from the first event on, and a record produced while the pipe runs replaces
 * the old one for the events that come after it.
 */
import assert from "node:assert/strict";
import { runEdgepipe, startEdgepipe } from "../harness/edgepipe.ts";
import { pulsarUrls } from "../harness/pulsar.ts";

const AIRPORTS = new URL("../../examples/data/airports.ndjson", import.meta.url);

Deno.test({
  name: "join --join topic: sees the whole topic, then updates while the pipe runs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { serviceUrl } = await pulsarUrls();
    const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
    const topic = `persistent://public/default/airports-${crypto.randomUUID().slice(0, 8)}`;
    const airports = await Deno.readTextFile(AIRPORTS);
    const records = airports.trim().split("\n").map((l) => JSON.parse(l));
    const seeded = await runEdgepipe(
      ["produce", topic, "--input", "json", "--key-field", "iata"],
      { env, stdin: airports },
    );
    assert.equal(seeded.code, 0, seeded.stderr);

    const pipe = startEdgepipe(
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
      env,
      "piped",
    );
    const writer = pipe.child.stdin.getWriter();
    const encoder = new TextEncoder();
    const lines = pipe.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const nextLine = async (): Promise<Record<string, { city?: string } | null>> => {
      for (;;) {
        const at = buffered.indexOf("\n");
        if (at >= 0) {
          const line = buffered.slice(0, at);
          buffered = buffered.slice(at + 1);
          return JSON.parse(line);
        }
        const { value, done } = await lines.read();
        if (done) throw new Error(`the join ended early: ${await pipe.stderr}`);
        buffered += value;
      }
    };
    const send = (origin: string) =>
      writer.write(encoder.encode(JSON.stringify({ value: { origin } }) + "\n"));

    // Every record of the topic is there from the first event on.
    for (const sample of [records[0], records[records.length - 1], records[7]]) {
      await send(sample.iata);
      assert.equal((await nextLine()).airport?.city, sample.city);
    }
    await send("NOPE");
    assert.equal((await nextLine()).airport, null);

    // A new record for SFO while the pipe runs: later events see it.
    const sfo = records.find((r) => r.iata === "SFO")!;
    const updated = await runEdgepipe(
      ["produce", topic, "--input", "json", "--key-field", "iata"],
      { env, stdin: JSON.stringify({ ...sfo, city: "South San Francisco" }) + "\n" },
    );
    assert.equal(updated.code, 0, updated.stderr);
    const seen: string[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      await send("SFO");
      const city = (await nextLine()).airport!.city!;
      seen.push(city);
      if (city === "South San Francisco") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen.at(-1), "South San Francisco", `cities seen: ${seen.join(", ")}`);
    assert.ok(seen.every((c) => c === "San Francisco" || c === "South San Francisco"));
    await writer.close();
    assert.equal(await pipe.exited, 0, await pipe.stderr);
  },
});
