/**
 * `edgepipe process` with a real keyed function (examples/functions/quiet_hour.ts: per origin,
 * the running count and mean delay, reported after an hour without flights) over 12 hours of US
 * flights: the reports equal an independent pandas computation
 * (test/fixtures/functions/make_quiet_hour.py) exactly. The module's sandbox, a processing-time
 * timer, load errors, and kill -9 during a checkpointed replay (output byte-identical) too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { crashAndCompare } from "./harness/crash_replay.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const QUIET_HOUR = new URL("../examples/functions/quiet_hour.ts", import.meta.url).pathname;
const FLIGHTS = new URL("./fixtures/windows/flights_events.ndjson", import.meta.url);
const EXPECTED = new URL("./fixtures/functions/quiet_hour_expected.ndjson", import.meta.url);

/** The flights in event-time order (ties in file order), `days` copies a day apart. */
async function sortedFlights(days = 1): Promise<string> {
  const events = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").map((l) => JSON.parse(l));
  events.sort((a, b) => a.eventTime - b.eventTime);
  const out: string[] = [];
  for (let d = 0; d < days; d++) {
    for (const e of events) {
      out.push(JSON.stringify({ ...e, eventTime: e.eventTime + d * 86_400_000 }));
    }
  }
  return out.join("\n") + "\n";
}

async function run(args: string[], stdin: string | ReadableStream<Uint8Array>, tz = "UTC") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { TZ: tz },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const source = typeof stdin === "string"
    ? ReadableStream.from([new TextEncoder().encode(stdin)])
    : stdin;
  const [out] = await Promise.all([child.output(), source.pipeTo(child.stdin)]);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l !== "");
  return {
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
    results: lines.map((l) => JSON.parse(l)).filter((r) => !("$edgepipe" in r)),
  };
}

async function moduleFile(dir: string, name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, source);
  return path;
}

for (const tz of ["UTC", "Pacific/Auckland"]) {
  Deno.test(`process: quiet-hour reports per origin equal pandas (TZ=${tz})`, async () => {
    const { code, stderr, results } = await run(
      ["process", QUIET_HOUR, "--key", "value.origin"],
      await sortedFlights(),
      tz,
    );
    assert.equal(code, 0, stderr);
    const got = results.map((r) =>
      JSON.stringify({ key: r.key, eventTime: r.eventTime, ...r.value })
    ).sort();
    const expected = (await Deno.readTextFile(EXPECTED)).trim().split("\n")
      .map((l) => JSON.stringify(JSON.parse(l))).sort();
    assert.deepEqual(got, expected);
  });
}

Deno.test("run: a process stage in a pipeline file gives the pandas reports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-process-run-" });
  await Deno.writeTextFile(join(dir, "flights.ndjson"), await sortedFlights());
  await Deno.writeTextFile(
    join(dir, "p.yaml"),
    `source:\n  replay: { files: flights.ndjson }\nstages:\n  - process: { module: ${QUIET_HOUR}, key: value.origin, checkpoint: ck }\nsink: stdout?payload=envelope\n`,
  );
  const { code, stderr, results } = await run(["run", join(dir, "p.yaml")], "");
  assert.equal(code, 0, stderr);
  const got = results.map((r) => JSON.stringify({ key: r.key, eventTime: r.eventTime, ...r.value }))
    .sort();
  const expected = (await Deno.readTextFile(EXPECTED)).trim().split("\n")
    .map((l) => JSON.stringify(JSON.parse(l))).sort();
  assert.deepEqual(got, expected);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("process: the module may read nothing but itself unless --allow-read says so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-process-" });
  const secret = await moduleFile(dir, "secret.txt", "s3cr3t");
  const reader = await moduleFile(
    dir,
    "reader.ts",
    `export default { onEvent(_e, ctx) { ctx.emit(Deno.readTextFileSync(${
      JSON.stringify(secret)
    })); } };\n`,
  );
  const input = '{"key":"k","eventTime":1,"value":1}\n';
  const denied = await run(["process", reader, "--key", "key"], input);
  assert.equal(denied.code, 1, denied.stderr);
  assert.match(denied.stderr, /process: the module failed: NotCapable: .*read access/);
  assert.deepEqual(denied.results, []);
  const allowed = await run(["process", reader, "--key", "key", `--allow-read=${secret}`], input);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.deepEqual(allowed.results.map((r) => r.value), ["s3cr3t"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("process: the module's environment and writes are denied unless given, running programs always", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-process-" });
  const target = join(dir, "written.txt");
  const module = await moduleFile(
    dir,
    "probe.ts",
    `export default { onEvent(e, ctx) {
  const tries = {
    env: () => Deno.env.get("EDGEPIPE_PROBE"),
    write: () => { Deno.writeTextFileSync(${JSON.stringify(target)}, "x"); return "wrote"; },
    run: () => new Deno.Command("true").outputSync().code,
  };
  try { ctx.emit(tries[e.value]()); } catch (err) { ctx.emit(err.name); }
} };\n`,
  );
  const input =
    ["env", "write", "run"].map((v) => JSON.stringify({ key: "k", eventTime: 1, value: v }))
      .join("\n") + "\n";
  Deno.env.set("EDGEPIPE_PROBE", "seen");
  try {
    const denied = await run(["process", module, "--key", "key"], input);
    assert.equal(denied.code, 0, denied.stderr);
    assert.deepEqual(denied.results.map((r) => r.value), [
      "NotCapable",
      "NotCapable",
      "NotCapable",
    ]);
    const given = await run(
      ["process", module, "--key", "key", "--allow-env=EDGEPIPE_PROBE", `--allow-write=${target}`],
      input,
    );
    assert.equal(given.code, 0, given.stderr);
    assert.deepEqual(given.results.map((r) => r.value), ["seen", "wrote", "NotCapable"]);
    assert.equal(await Deno.readTextFile(target), "x");
  } finally {
    Deno.env.delete("EDGEPIPE_PROBE");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process: a processing-time timer fires while the input is quiet", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-process-" });
  const module = await moduleFile(
    dir,
    "clock.ts",
    `export default {
  onEvent(_e, ctx) { ctx.state = 1; ctx.timers.setProcessingTime(Date.now() + 200); },
  onTimer(_t, ctx) { ctx.emit("fired"); ctx.state = undefined; },
};\n`,
  );
  // One event, then a quiet second before the input ends.
  const quiet = new ReadableStream<Uint8Array>({
    async start(c) {
      c.enqueue(new TextEncoder().encode('{"key":"k","eventTime":1,"value":1}\n'));
      await new Promise((r) => setTimeout(r, 1200));
      c.close();
    },
  });
  const { code, stderr, results } = await run(["process", module, "--key", "key"], quiet);
  assert.equal(code, 0, stderr);
  assert.deepEqual(results.map((r) => r.value), ["fired"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("process: a module that cannot be loaded or has no onEvent is one line, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-process-" });
  const empty = await moduleFile(dir, "empty.ts", "export default { hello: 1 };\n");
  for (
    const [args, message] of [
      [["process", join(dir, "missing.ts"), "--key", "k"], /cannot load .*missing\.ts/],
      [["process", empty, "--key", "k"], /cannot load .*no onEvent function/],
      [["process", "--key", "k"], /give one module/],
    ] as const
  ) {
    const { code, stderr } = await run([...args], '{"value":1}\n');
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "process survives kill -9 during a checkpointed replay: output identical to a clean run",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-process-crash-" });
    const input = join(dir, "input.ndjson");
    // Without ids: ack records would land where checkpoint timing puts them.
    const text = (await sortedFlights(40)).trim().split("\n").map((l) => {
      const { eventTime, value } = JSON.parse(l);
      return JSON.stringify({ eventTime, value });
    });
    await Deno.writeTextFile(input, text.join("\n") + "\n");
    await crashAndCompare({
      args: (output, ck) => [
        "run",
        "-A",
        MAIN,
        "process",
        QUIET_HOUR,
        "--key",
        "value.origin",
        "--output",
        output,
        ...(ck ? ["--checkpoint-dir", ck, "--checkpoint-interval", "50ms"] : []),
      ],
      input,
      dir,
      kills: 3,
    });
    await Deno.remove(dir, { recursive: true });
  },
});
