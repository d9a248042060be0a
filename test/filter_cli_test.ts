/** `edgepipe filter` and `edgepipe map` as commands: errors on purpose, and no id left behind. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runEdgepipe } from "./harness/edgepipe.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

async function edgepipe(args: string[], stdin = "") {
  const run = await runEdgepipe(args, { stdin });
  const text = run.stdout.trim();
  return {
    code: run.code,
    stdout: run.stdout,
    items: text === "" ? [] : text.split("\n").map((l) => JSON.parse(l)),
    stderr: run.stderr.trim(),
  };
}

const input = [
  { id: "a", value: { origin: "SFO", delay: 20 } },
  { id: "b", value: { origin: "LAX", delay: 3 } },
  { id: "c", value: { origin: "SFO" } },
  { id: "d", value: { origin: "JFK", delay: 40 } },
].map((e) => JSON.stringify(e)).join("\n") + "\nnot json\n";

/** Every input id comes out exactly once: as an event, or acknowledged. */
function accountFor(items: { id?: string; $edgepipe?: string; ids?: string[] }[]) {
  const ids = [
    ...items.filter((i) => !i.$edgepipe).map((i) => i.id),
    ...items.filter((i) => i.$edgepipe === "ack").flatMap((i) => i.ids!),
  ];
  return ids.sort();
}

Deno.test("filter: invalid CEL is a usage error naming the column", async () => {
  const run = await edgepipe(["filter", "event.value.delay >> 3"], input);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^edgepipe filter: invalid expression at column 20 of .*: Unexpected/);
  assert.equal(run.stderr.split("\n").length, 1);
  const typed = await edgepipe(["filter", 'event.value.delay + "x" > 1'], input);
  assert.equal(typed.code, 2);
  assert.equal(typed.stderr.split("\n").length, 1);
});

Deno.test("filter: an expression failing on one event stops with one line by default", async () => {
  const run = await edgepipe(["filter", "event.value.delay > 10"], input);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /^edgepipe filter: line 3: event c: .*column 13.*No such key: delay .*\)$/,
  );
  assert.equal(run.stderr.split("\n").length, 1);
});

Deno.test("filter: dead-letter keeps going, acknowledges, and loses nothing", async () => {
  const dir = await Deno.makeTempDir();
  const dead = join(dir, "dead.ndjson");
  const run = await edgepipe(
    ["filter", "--on-error", `dead-letter=${dead}`, "event.value.delay > 10"],
    input,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.items.filter((i) => !i.$edgepipe).map((i) => i.id), ["a", "d"]);
  assert.deepEqual(accountFor(run.items), ["a", "b", "c", "d"]);
  const letters = (await Deno.readTextFile(dead)).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(letters.map((l) => l.id ?? l.deadLetter.raw), ["c", "not json"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("filter and map with an enrichment join", async () => {
  const dir = await Deno.makeTempDir();
  const ref = join(dir, "airports.ndjson");
  await Deno.writeTextFile(ref, '{"iata":"SFO","state":"CA"}\n{"iata":"JFK","state":"NY"}\n');
  const kept = await edgepipe(
    [
      "filter",
      "--on-error",
      "skip",
      "--join",
      ref,
      "--on",
      "value.origin=iata",
      'event.ref.state == "CA"',
    ],
    input,
  );
  assert.equal(kept.code, 0, kept.stderr);
  assert.deepEqual(kept.items.filter((i) => !i.$edgepipe).map((i) => [i.id, i.ref.state]), [
    ["a", "CA"],
    ["c", "CA"],
  ]);
  assert.deepEqual(accountFor(kept.items), ["a", "b", "c", "d"]);

  const mapped = await edgepipe(
    ["map", "--on-error", "skip", "--join", ref, "--on", "value.origin=iata"],
    input,
  );
  assert.deepEqual(mapped.items.map((i) => i.ref?.state ?? null), ["CA", null, "CA", "NY"]);
  const missing = await edgepipe(["map", "--join", join(dir, "nope.ndjson"), "--on", "x"], input);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read reference file/);
  await Deno.remove(dir, { recursive: true });
});

/** Writes `lines` to a command and returns its first output line, while stdin is still open. */
async function firstLineWhileOpen(args: string[], lines: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines));
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timeout = setTimeout(() => child.kill(), 10_000);
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  clearTimeout(timeout);
  await writer.close();
  await reader.cancel();
  await child.status;
  return text.split("\n")[0];
}

Deno.test("results reach stdout while the input is still open (idle flush)", async () => {
  const event = JSON.stringify({ id: "a", eventTime: 1000, value: { delay: 20, k: "x" } });
  assert.equal(await firstLineWhileOpen(["filter", "event.value.delay > 1"], event + "\n"), event);
  assert.match(
    await firstLineWhileOpen(["map", '{"d": event.value.delay}'], event + "\n"),
    /"value":\{"d":20\}/,
  );
  const later = JSON.stringify({ id: "b", eventTime: 25_000, value: { delay: 1, k: "x" } });
  assert.match(
    await firstLineWhileOpen(["window", "--key", "k", "--tumbling", "10s"], `${event}\n${later}\n`),
    /"window":\{"start":0,"end":10000\}/,
  );
});
