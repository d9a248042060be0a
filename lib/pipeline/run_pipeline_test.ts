import assert from "node:assert/strict";
import { join } from "node:path";
import { AckServer } from "../delivery/ack_server.ts";
import { parsePipeline, PipelineFileError } from "./load_pipeline.ts";
import { describePlan, resolvePlan } from "./plan.ts";
import { runPipeline } from "./run_pipeline.ts";

async function readTree(dir: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await readTree(path));
    else {
      const text = (await Deno.readTextFile(path)).trim();
      if (text) out.push(...text.split("\n").map((l) => JSON.parse(l)));
    }
  }
  return out;
}

function plan(text: string, dir = "/tmp") {
  return resolvePlan(parsePipeline(text, join(dir, "p.yaml")), join(dir, "p.yaml"));
}

Deno.test("plan errors name the stage: bad CEL, bad aggregates, bad destinations", () => {
  const cases: [string, RegExp][] = [
    [
      "source: { stdin: {} }\nstages:\n  - filter: 'event.value.('\nsink: stdout\n",
      /^\/tmp\/p\.yaml: stages\[0\]\.filter: .*column/,
    ],
    [
      "source: { stdin: {} }\nstages:\n  - window: { key: k, tumbling: 1m, aggregates: 'median(x)' }\nsink: stdout\n",
      /^\/tmp\/p\.yaml: stages\[0\]\.window: .*median/,
    ],
    [
      "source: { stdin: {} }\nsink: s3://Bad_Bucket/x/\n",
      /^\/tmp\/p\.yaml: sink: .*not a valid S3 bucket name/,
    ],
    [
      "source: { stdin: {} }\nsink: ftp://host/x\n",
      /^\/tmp\/p\.yaml: sink: .*is not a destination/,
    ],
    [
      "source: { stdin: {} }\nsink: 'file:out/?format=csv'\n",
      /^\/tmp\/p\.yaml: sink: .*format must be one of/,
    ],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => plan(text), (err: unknown) => {
      assert.ok(err instanceof PipelineFileError);
      assert.match(err.message, pattern);
      return true;
    });
  }
});

Deno.test("relative paths resolve against the pipeline file; the plan describes every part", () => {
  const resolved = plan(
    "source: { replay: { files: data/a.ndjson } }\nstages:\n  - join: { file: ref.ndjson, on: value.k=id }\nsink: file:out/{key}/\nonError: dead-letter=bad.ndjson\n",
    "/srv/pipes",
  );
  assert.deepEqual(resolved.source, {
    kind: "replay",
    files: ["/srv/pipes/data/a.ndjson"],
    format: undefined,
    time: undefined,
    key: undefined,
    count: undefined,
  });
  assert.deepEqual(resolved.onError, { kind: "dead-letter", target: "/srv/pipes/bad.ndjson" });
  const text = describePlan(resolved).join("\n");
  assert.match(text, /source {3}replay \/srv\/pipes\/data\/a\.ndjson/);
  assert.match(text, /stage 1 {2}join \/srv\/pipes\/ref\.ndjson on value\.k=id as ref/);
  assert.match(text, /sink {5}file:\/srv\/pipes\/out\/\{key\}\/ \(ndjson\.gz\)/);
});

Deno.test("in-process run: filtered, delivered and dead-lettered events are all acknowledged, each after its fate", async () => {
  const dir = await Deno.makeTempDir();
  const acked: string[] = [];
  const acks = await AckServer.listen({ source: "test", onAck: (id) => void acked.push(id) });
  try {
    const events = Array.from({ length: 40 }, (_, i) => ({
      id: `e${i}`,
      key: i % 2 ? "odd" : "even",
      value: i === 7 ? { n: "seven" } : { n: i },
    }));
    const input = [
      JSON.stringify(acks.hello()),
      ...events.map((e) => JSON.stringify(e)),
      "this line is not JSON",
    ].join("\n") + "\n";
    const resolved = plan(
      `source: { stdin: {} }
stages:
  - filter: 'event.value.n > 9.0'
sink: 'file:${dir}/out/{key}/?format=ndjson&payload=envelope'
onError: dead-letter=${dir}/dead.ndjson
`,
      dir,
    );
    const report = await runPipeline(resolved, {
      stdin: ReadableStream.from([new TextEncoder().encode(input)]),
      log: () => {},
    });
    await acks.waitForTerminal(5_000);
    const stored = await readTree(join(dir, "out"));
    const expectedStored = events.filter((e) => typeof e.value.n === "number" && e.value.n > 9);
    assert.deepEqual(stored.map((e) => e.id).sort(), expectedStored.map((e) => e.id).sort());
    for (const key of ["even", "odd"]) {
      const inDir = await readTree(join(dir, "out", key));
      assert.ok(inDir.length > 0 && inDir.every((e) => e.key === key), key);
    }
    for (const e of stored) {
      assert.equal(e.key, (e.id as string).slice(1) as unknown as number % 2 ? "odd" : e.key);
    }
    const dead = (await Deno.readTextFile(join(dir, "dead.ndjson"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(
      dead.map((d) => [d.id ?? null, d.deadLetter.stage]).sort(),
      [
        ["e7", "filter"],
        [null, "run"],
      ].sort(),
    );
    assert.deepEqual([...acked].sort(), events.map((e) => e.id).sort());
    assert.equal(report.delivered, expectedStored.length);
  } finally {
    await acks.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in-process run: an undeliverable sink fails the run and acknowledges nothing undelivered", async () => {
  const dir = await Deno.makeTempDir();
  const acked: string[] = [];
  const acks = await AckServer.listen({ source: "test", onAck: (id) => void acked.push(id) });
  try {
    await Deno.writeTextFile(join(dir, "blocker"), "a file where the output directory should be");
    const input = [JSON.stringify(acks.hello()), '{"id":"a","value":1}', '{"id":"b","value":2}']
      .join("\n") + "\n";
    const resolved = plan(`source: { stdin: {} }\nsink: 'file:${dir}/blocker/x/'\n`, dir);
    await assert.rejects(
      runPipeline(resolved, {
        stdin: ReadableStream.from([new TextEncoder().encode(input)]),
        log: () => {},
      }),
      /could not deliver event a to .*blocker.*writing .* failed/,
    );
    await acks.waitForTerminal(2_000);
    assert.deepEqual(acked, []);
  } finally {
    await acks.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in-process run: a batching sink's objects fill by count (in flight holds a batch)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const events = Array.from({ length: 12_000 }, (_, i) => JSON.stringify({ value: { i } }));
    // Objects of 5,000 events: a run that holds fewer events in flight than one batch stalls
    // until the terminal's one-second nudge seals a short object (1,000 events each, a second
    // apart: 100 s for 100,000 events).
    const resolved = plan(
      `source: { stdin: {} }\nsink: 'file:${dir}/out/?format=ndjson&max-events=5000&max-age=1h'\n`,
      dir,
    );
    await runPipeline(resolved, {
      stdin: ReadableStream.from([new TextEncoder().encode(events.join("\n") + "\n")]),
      log: () => {},
    });
    const sizes = [];
    for (
      const entry of [...Deno.readDirSync(join(dir, "out"))].sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      sizes.push((await Deno.readTextFile(join(dir, "out", entry.name))).trim().split("\n").length);
    }
    assert.deepEqual(sizes, [5_000, 5_000, 2_000]);
    const stored = (await readTree(join(dir, "out"))).map((e) => e.i as number);
    assert.deepEqual(stored.sort((a, b) => a - b), events.map((_, i) => i));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run's default in flight: one full batch per batching destination, 1,000 otherwise", () => {
  const inFlight = (sink: string, extra = "") =>
    plan(`source: { stdin: {} }\nsink: ${sink}\n${extra}`).maxInFlight;
  assert.equal(inFlight("'file:/tmp/o/'"), 10_000 * 3, "default objects of 10,000 events");
  assert.equal(inFlight("'s3://bucket/o/?max-events=2000'"), 2_000 * 3);
  assert.equal(inFlight("'s3://bucket/o/?max-events=200'"), 1_000, "never under 1,000");
  assert.equal(inFlight("stdout"), 1_000);
  assert.equal(inFlight("persistent://public/default/t"), 1_000);
  assert.equal(
    inFlight("'file:/tmp/o/?max-events=5000'", "maxInFlight: 50\n"),
    50,
    "the file's own",
  );
  const routed =
    `\n  route:\n    rules:\n      - { when: 'event.value.a', to: 'file:/tmp/a/?max-events=4000' }\n    default: stdout`;
  assert.equal(inFlight(routed), 4_000 * 3, "the largest destination's batch");
});
