/**
 * Event times mean the same on every machine: the flights window run (the same data and windows as
 * window_flights_test.ts, there checked against pandas) gives byte-identical output under
 * `TZ=America/New_York` and `TZ=Asia/Tokyo` as under UTC, through every path that reads a time:
 * `window --time` on ISO strings without an offset, `replay --time` into `window`, and
 * `edgepipe run` with a replay source; and produce's and the file sink's time fields.
 */
import assert from "node:assert/strict";
import { runEdgepipe } from "./harness/edgepipe.ts";

const FIXTURES = new URL("./fixtures/windows/", import.meta.url);
const ZONES = ["UTC", "America/New_York", "Asia/Tokyo"];
const WINDOW_ARGS = [
  "--key",
  "origin",
  "--tumbling",
  "1h",
  "--out-of-orderness",
  "10m",
  "--agg",
  "count(), sum(value.delay), avg(value.delay) as mean, min(value.delay), max(value.delay), p95(value.delay)",
];

const eventsText = await Deno.readTextFile(new URL("flights_events.ndjson", FIXTURES));
const expectedWindows = (await Deno.readTextFile(new URL("flights_expected.ndjson", FIXTURES)))
  .trim().split("\n").length;
// The same flights as plain records whose only time is `date`, ISO-8601 without an offset.
const records = eventsText.trim().split("\n").map((line) => JSON.stringify(JSON.parse(line).value));
assert.ok(records.every((r) => /"date":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"/.test(r)), "no offsets");

async function edgepipe(tz: string, args: string[], stdin?: string): Promise<string> {
  const { code, stdout, stderr } = await runEdgepipe(args, { env: { TZ: tz }, stdin });
  assert.equal(code, 0, `TZ=${tz} edgepipe ${args.join(" ")}: ${stderr}`);
  return stdout;
}

/** Window results only (no control records), to compare runs whose inputs carry ids or not. */
function results(stdout: string): string[] {
  return stdout.trim().split("\n").filter((line) => !line.startsWith('{"$edgepipe"'));
}

/** Runs `make(tz)` under each zone and asserts every output equals the UTC one, byte for byte. */
async function sameInEveryZone(make: (tz: string) => Promise<string>): Promise<string> {
  const outputs = new Map<string, string>();
  for (const tz of ZONES) outputs.set(tz, await make(tz));
  const utc = outputs.get("UTC")!;
  assert.equal(results(utc).length, expectedWindows, "the UTC run has every window");
  for (const tz of ZONES) assert.equal(outputs.get(tz), utc, `TZ=${tz} differs from UTC`);
  return utc;
}

Deno.test("window --time on ISO times without an offset: the same bytes in every TZ", async () => {
  await sameInEveryZone((tz) =>
    edgepipe(tz, ["window", ...WINDOW_ARGS, "--time", "value.date"], eventsText)
  );
});

Deno.test("replay --time into window: the same windows in every TZ as window reads itself", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/flights.ndjson`;
    await Deno.writeTextFile(file, records.join("\n") + "\n");
    const direct = await edgepipe(
      "UTC",
      ["window", ...WINDOW_ARGS, "--time", "value.date"],
      eventsText,
    );
    const piped = await sameInEveryZone(async (tz) => {
      const replayed = await edgepipe(tz, ["replay", "--time", "date", file]);
      return await edgepipe(tz, ["window", ...WINDOW_ARGS], replayed);
    });
    assert.deepEqual(results(piped), results(direct));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("edgepipe run with a replay source: the same windows in every TZ", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/flights.ndjson`, records.join("\n") + "\n");
    await Deno.writeTextFile(
      `${dir}/pipeline.yaml`,
      [
        "source:",
        "  replay: { files: [flights.ndjson], time: date }",
        "stages:",
        "  - window:",
        "      key: value.origin",
        "      tumbling: 1h",
        "      outOfOrderness: 10m",
        `      aggregates: "${WINDOW_ARGS.at(-1)}"`,
        "sink: stdout?payload=envelope",
        "",
      ].join("\n"),
    );
    const direct = await edgepipe(
      "UTC",
      ["window", ...WINDOW_ARGS, "--time", "value.date"],
      eventsText,
    );
    const run = await sameInEveryZone((tz) => edgepipe(tz, ["run", `${dir}/pipeline.yaml`]));
    assert.deepEqual(results(run), results(direct));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("produce's message time and the file sink's time prefix do not depend on TZ", async () => {
  const script = `
import { toProducerMessage } from ${JSON.stringify(import.meta.resolve("../lib/sinks/pulsar.ts"))};
import { PrefixTemplate } from ${
    JSON.stringify(import.meta.resolve("../lib/sinks/object_naming.ts"))
  };
const event = { eventTime: "2001-01-01T00:03:00", value: { date: "2001-01-01T00:03:00" } };
const message = toProducerMessage(event, { timeField: "date" });
const prefix = new PrefixTemplate("d=%Y-%m-%d/h=%H/").render(event as never);
console.log(JSON.stringify([message.eventTime, prefix]));`;
  for (const tz of ZONES) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { TZ: tz },
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    // 2001-01-01T00:03:00Z (Python: datetime(2001, 1, 1, 0, 3, tzinfo=timezone.utc)).
    assert.equal(new TextDecoder().decode(stdout), '[978307380000,"d=2001-01-01/h=00/"]\n', tz);
  }
});
