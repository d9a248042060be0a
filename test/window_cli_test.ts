/** `edgepipe window` as a command: bad input on purpose, checkpoints on disk, late side output. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runEdgepipe } from "./harness/edgepipe.ts";

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

const lines = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join("\n") + "\n";
const BASE = ["window", "--key", "k", "--tumbling", "10s", "--agg", "count(), sum(value.x)"];
const good = (id: string, t: number | string, k = "a", x = 1) => ({
  id,
  eventTime: t,
  value: { k, x },
});

Deno.test("window: bad events fail with one line, or are skipped / dead-lettered and acked", async () => {
  const input = lines([
    good("e1", 1000),
    { id: "e2", eventTime: 1500, value: { x: 1 } }, // no key
    good("e3", "2023-13-45T99:00:00"), // unparseable time
    { id: "e4", value: { k: "a", x: 1 } }, // no time at all
    good("e5", 2000, "a", "three" as unknown as number), // not a number
    good("e6", "1970-01-01T00:00:03.000Z"),
  ]);
  const failed = await edgepipe(BASE, input);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /^edgepipe window: line 2: event e2: .*no key field 'k' .*\)$/);
  assert.equal(failed.stderr.split("\n").length, 1);

  const skipped = await edgepipe([...BASE, "--on-error", "skip"], input);
  assert.equal(skipped.code, 0, skipped.stderr);
  const reasons = skipped.stderr.split("\n");
  assert.equal(reasons.length, 4);
  assert.match(reasons[1], /event e3: cannot read eventTime "2023-13-45T99:00:00"/);
  assert.match(reasons[2], /event e4: event has neither eventTime nor publishTime/);
  assert.match(reasons[3], /event e5: sum\(value.x\): "three" is not a number/);
  const acked = skipped.items.filter((i) => i.$edgepipe === "ack").flatMap((i) => i.ids).sort();
  assert.deepEqual(acked, ["e1", "e2", "e3", "e4", "e5", "e6"]);
  const result = skipped.items.find((i) => i.window);
  assert.deepEqual(result.value, { count: 2, sum_value_x: 2 });

  const dir = await Deno.makeTempDir();
  const dead = join(dir, "dead.ndjson");
  const lettered = await edgepipe([...BASE, "--on-error", `dead-letter=${dead}`], input);
  assert.equal(lettered.code, 0, lettered.stderr);
  const letters = (await Deno.readTextFile(dead)).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(letters.map((l) => l.id), ["e2", "e3", "e4", "e5"]);
  assert.ok(letters.every((l) => l.deadLetter.stage === "window" && l.deadLetter.error));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window: usage mistakes exit 2 with one line", async () => {
  for (
    const [args, pattern] of [
      [["window", "--key", "k"], /exactly one of --tumbling/],
      [["window", "--key", "k", "--tumbling", "10s", "--agg", "median(x)"], /unknown function/],
      [["window", "--key", "event.value.k +", "--tumbling", "1s"], /column 16/],
      [["window", "--tumbling", "1s"], /--key .* is required/],
      [["window", "--key", "k", "--sliding", "1s"], /--sliding needs --every/],
      [["window", "--key", "k", "--tumbling", "soon"], /not a duration/],
      // Nonsense settings: a slide that puts each event in 3,600,000 windows, infinite gaps.
      [["window", "--key", "k", "--sliding", "1h", "--every", "1ms"], /3600000 windows/],
      [["window", "--key", "k", "--session", "9".repeat(400)], /--session: .* longer than/],
      [
        ["window", "--key", "k", "--tumbling", "1s", "--allowed-lateness", "9".repeat(20) + "d"],
        /--allowed-lateness: .* longer than/,
      ],
    ] as const
  ) {
    const run = await edgepipe([...args], "");
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, pattern);
    assert.equal(run.stderr.split("\n").length, 1, run.stderr);
  }
});

Deno.test("window: late events are dropped and counted by default, sent on with --late emit, or to a dead-letter file", async () => {
  const input = lines([good("a1", 1000), good("a2", 25_000), good("a3", 2000), good("a4", 26_000)]);
  const dropped = await edgepipe(BASE, input);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.equal(dropped.items.filter((i) => i.late || i.id === "a3").length, 0);
  assert.deepEqual(dropped.items.filter((i) => i.window).map((i) => i.value.count), [1, 2]);
  const said = dropped.stderr.split("\n");
  assert.equal(said.length, 2, dropped.stderr);
  assert.match(said[0], /late events .* are dropped and counted .*--late dead-letter/);
  assert.match(said[1], /^edgepipe window: 1 late events dropped/);
  const ackedDropped = dropped.items.filter((i) => i.$edgepipe === "ack").flatMap((i) => i.ids);
  assert.deepEqual(ackedDropped.sort(), ["a1", "a2", "a3", "a4"]);

  const emitted = await edgepipe([...BASE, "--late", "emit"], input);
  assert.equal(emitted.code, 0, emitted.stderr);
  assert.deepEqual(emitted.items.filter((i) => i.late), [{ ...good("a3", 2000), late: true }]);

  const dir = await Deno.makeTempDir();
  const late = join(dir, "late.ndjson");
  const sided = await edgepipe([...BASE, "--late", `dead-letter=${late}`], input);
  assert.equal(sided.code, 0, sided.stderr);
  assert.equal(sided.items.filter((i) => i.late).length, 0);
  const letters = (await Deno.readTextFile(late)).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(letters.map((l) => l.id), ["a3"]);
  assert.match(letters[0].deadLetter.error, /late event/);
  const acked = sided.items.filter((i) => i.$edgepipe === "ack").flatMap((i) => i.ids).sort();
  assert.deepEqual(acked, ["a1", "a2", "a3", "a4"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window: an unwritable checkpoint directory is a clear error before any input", async () => {
  const file = await Deno.makeTempFile();
  const run = await edgepipe(
    [...BASE, "--checkpoint-dir", join(file, "ck")],
    lines([good("a", 1)]),
  );
  assert.equal(run.code, 1);
  assert.match(run.stderr, /checkpoint directory .* is not writable/);
  assert.equal(run.stderr.split("\n").length, 1);
  assert.equal(run.stdout, "");
  await Deno.remove(file);
});

Deno.test("window: a corrupt newest checkpoint stops the stage; --checkpoint-fallback restores the previous one, output unchanged", async () => {
  const dir = await Deno.makeTempDir();
  const events = Array.from({ length: 3000 }, (_, i) => good(`i${i}`, i * 100, `k${i % 7}`, i));
  const input = lines(events);
  const clean = await edgepipe(BASE, input);
  const ck = join(dir, "ck");
  const out = join(dir, "out.ndjson");
  const args = [...BASE, "--checkpoint-dir", ck, "--output", out, "--checkpoint-interval", "1ms"];
  // Ack records sit where checkpoints happened to be taken (wall clock); results never move.
  const resultsOf = (text: string) => text.split("\n").filter((l) => !l.includes('"$edgepipe"'));
  const ackedIn = (text: string) =>
    new Set(
      text.trim().split("\n").map((l) => JSON.parse(l)).filter((i) => i.$edgepipe === "ack")
        .flatMap((i) => i.ids),
    );
  const first = await edgepipe(args, input);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(resultsOf(await Deno.readTextFile(out)), resultsOf(clean.stdout));

  const names = [...Deno.readDirSync(ck)].map((e) => e.name).filter((n) => n !== "lock").sort();
  assert.equal(names.length, 2);
  const newest = join(ck, names[1]);
  const bytes = await Deno.readFile(newest);
  await Deno.writeFile(newest, bytes.subarray(0, bytes.length >> 1)); // torn write
  const refused = await edgepipe(args, input);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /newest checkpoint .* cannot be used .*--checkpoint-fallback/);
  assert.equal(refused.stderr.split("\n").length, 1);
  const again = await edgepipe([...args, "--checkpoint-fallback"], input);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stderr,
    /^edgepipe: warning: skipped checkpoint .*: (checksum|truncated).*restored/,
  );
  assert.equal(again.stderr.split("\n").length, 1);
  const final = await Deno.readTextFile(out);
  assert.deepEqual(resultsOf(final), resultsOf(clean.stdout));
  assert.equal(ackedIn(final).size, events.length);

  // A checkpoint written with other settings is not used: refuse, and say how to start over.
  const other = await edgepipe(
    ["window", "--key", "k", "--tumbling", "20s", "--checkpoint-dir", ck, "--output", out],
    input,
  );
  assert.equal(other.code, 1);
  assert.match(
    other.stderr,
    /newest checkpoint .* cannot be used \(written with other window settings.*move .* away/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window: absorbed events are acknowledged only after a durable checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  const ck = join(dir, "ck");
  const run = await edgepipe(
    [...BASE, "--checkpoint-dir", ck, "--checkpoint-interval", "1h"],
    lines([good("a", 1000), good("b", 2000), good("c", 15_000)]),
  );
  assert.equal(run.code, 0, run.stderr);
  // With a 1 h interval the only checkpoint is the final one: every ack comes after all results.
  const kinds = run.items.map((i) => i.$edgepipe ?? "result");
  assert.deepEqual(kinds, ["result", "result", "ack"]);
  assert.deepEqual(run.items[2].ids, ["a", "b", "c"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window: behind an acknowledging source, redelivered events are not counted twice", async () => {
  const dir = await Deno.makeTempDir();
  const ck = join(dir, "ck");
  const hello = { $edgepipe: "hello", v: 1, ack: "/tmp/none.sock", source: "consume" };
  // Pass-through mode (no ack relay): the acks travel in-band, visible on stdout.
  const args = [
    ...BASE,
    "--checkpoint-dir",
    ck,
    "--checkpoint-interval",
    "1h",
    "--ack-relay",
    "off",
  ];
  const end = { $edgepipe: "end", source: "consume" };
  const first = await edgepipe(args, lines([hello, good("a", 1000), good("b", 2000), end]));
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(first.items.find((i) => i.window)?.value, { count: 2, sum_value_x: 2 });

  // The acks of the final checkpoint were lost: the broker redelivers a and b, then c is new.
  // No input is skipped by count (the source redelivers), a and b are acknowledged again only.
  const second = await edgepipe(
    args,
    lines([hello, good("a", 1000), good("b", 2000), good("c", 3000), end]),
  );
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(second.items[0], hello, "the hello stays first");
  assert.deepEqual(second.items[1], { $edgepipe: "ack", ids: ["a", "b"] });
  assert.deepEqual(second.items.at(-1), end);
  const results = second.items.filter((i) => i.window);
  assert.deepEqual(results.map((r) => r.value), [{ count: 1, sum_value_x: 1 }]);
  const acked = second.items.filter((i) => i.$edgepipe === "ack").flatMap((i) => i.ids).sort();
  assert.deepEqual(acked, ["a", "a", "b", "b", "c"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window: an event time outside the range of dates is a bad event time, not a window", async () => {
  const input = lines([
    good("a1", 1000),
    { id: "huge", eventTime: 1e308, value: { k: "a", x: 1 } },
    good("a2", 2000),
    good("a3", 15_000),
  ]);
  const failed = await edgepipe(BASE, input);
  assert.equal(failed.code, 1);
  assert.match(
    failed.stderr,
    /event huge: cannot read eventTime 1e\+308: outside the representable range[^:]*$/m,
  );
  const skipped = await edgepipe([...BASE, "--on-error", "skip"], input);
  assert.equal(skipped.code, 0, skipped.stderr);
  const results = skipped.items.filter((i) => i.window);
  // a1 and a2 share [0, 10 s), a3 is alone in [10 s, 20 s): nothing turned late by 1e308.
  assert.deepEqual(results.map((r) => [r.window.start, r.value.count]), [[0, 2], [10_000, 1]]);
});

Deno.test("window: --key constructor reads the event's own field, never Object's", async () => {
  const input = lines([
    { id: "c1", eventTime: 1000, value: { constructor: "x" } },
    { id: "c2", eventTime: 2000, value: { constructor: "y" } },
    { id: "c3", eventTime: 3000, value: { other: 1 } },
  ]);
  const args = ["window", "--key", "constructor", "--tumbling", "10s", "--on-error", "skip"];
  const run = await edgepipe(args, input);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.items.filter((i) => i.window).map((r) => [r.key, r.value.count]), [
    ["x", 1],
    ["y", 1],
  ]);
  assert.match(run.stderr, /event c3: .*no key field 'constructor'/);
});

/** A Pulsar message id as consume writes it (base64 of MessageIdData: ledger, entry). */
function messageId(ledger: number, entry: number): string {
  return btoa(String.fromCharCode(0x08, ledger, 0x10, entry));
}

Deno.test("window behind consume: redelivered events whose windows fired are acknowledged, not late, not counted", async () => {
  const dir = await Deno.makeTempDir();
  const ck = join(dir, "ck");
  const hello = { $edgepipe: "hello", v: 1, ack: "/tmp/none.sock", source: "consume" };
  const end = { $edgepipe: "end", source: "consume" };
  const at = (entry: number, t: number) => ({
    topic: "persistent://public/default/t",
    id: messageId(7, entry),
    eventTime: t,
    value: { k: "a", x: 1 },
  });
  const args = [...BASE, "--checkpoint-dir", ck, "--ack-relay", "off", "--late", "emit"];
  // Entries 1-3: [0, 10 s) fires when entry 3 (at 15 s) arrives; the pipe then dies (no end).
  const first = await edgepipe(args, lines([hello, at(1, 1000), at(2, 2000), at(3, 15_000)]));
  assert.equal(first.code, 1, first.stderr);
  assert.deepEqual(first.items.filter((i) => i.window).map((i) => i.value.count), [2]);
  // After the restart the broker delivers entries 1-3 again (their acks never arrived), then 4.
  const second = await edgepipe(
    args,
    lines([hello, at(1, 1000), at(2, 2000), at(3, 15_000), at(4, 16_000), end]),
  );
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.items.filter((i) => i.late).length, 0, "a redelivery is not late data");
  // [10 s, 20 s) holds entries 3 and 4 once each.
  assert.deepEqual(second.items.filter((i) => i.window).map((i) => i.value.count), [2]);
  const acked = second.items.filter((i) => i.$edgepipe === "ack").flatMap((i) => i.ids);
  for (const entry of [1, 2, 3, 4]) assert.ok(acked.includes(messageId(7, entry)), `${entry}`);
  assert.match(second.stderr, /3 redelivered events were already counted/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("window: a second process on the same --checkpoint-dir stops with one line", async () => {
  const dir = await Deno.makeTempDir();
  const ck = join(dir, "ck");
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  // The first holds the directory while its input stays open.
  const first = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...BASE, "--checkpoint-dir", ck],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = first.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines([good("a", 1000)])));
  for (
    let i = 0;
    i < 400 && !(await Deno.stat(join(ck, "lock")).then(() => true, () => false));
    i++
  ) {
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => setTimeout(r, 200)); // the lock is taken right after the file exists
  const second = await edgepipe([...BASE, "--checkpoint-dir", ck], lines([good("b", 1000)]));
  await writer.close();
  assert.equal((await first.status).code, 0);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /checkpoint directory .* is in use by another process \(pid \d+\)/);
  assert.equal(second.stderr.split("\n").length, 1);
  await Deno.remove(dir, { recursive: true });
});
