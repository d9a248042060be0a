/**
 * The bad-input corpus (`bad_input_corpus.ts`) through every stage under the three error
 * policies, one process per stage × policy:
 * - skip and dead-letter: no crash, every good line delivered, blank lines skipped silently, every
 *   bad line skipped or dead-lettered (dead letters carry the line number and the raw bytes —
 *   base64 when they are not UTF-8 — or the event);
 * - fail: exit 1, everything before the bad line delivered, one stderr line naming its number.
 * Under fail each stage meets a different kind of bad line, so every kind is the fatal one once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  corpus,
  corpusBytes,
  type CorpusLine,
  isBadFor,
  type Stage,
  STAGES,
} from "./bad_input_corpus.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const MODEL = new URL("../models/flight-delay", import.meta.url).pathname;
const SERVICE_URL = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function edgepipe(args: string[], stdin?: Uint8Array): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", MAIN, ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let feeding = Promise.resolve();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    feeding = writer.write(stdin).then(() => writer.close()).catch(() => {});
  }
  const [out] = await Promise.all([child.output(), feeding]);
  const decoder = new TextDecoder();
  // Deno's own notices (npm packages set up on a first run) are not the command's output.
  const stderr = decoder.decode(out.stderr).split("\n")
    .filter((line) =>
      !/^(\[[0-9;]*m)*(Initialize|Download|Warning) /.test(line.replaceAll("\u001b", ""))
    ).join("\n");
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr };
}

/** How to run one stage, and where its delivered events are found. */
interface SetUp {
  args(policy: string, dir: string): string[];
  /** Read from a file instead of stdin (replay). */
  fromFile?: boolean;
  /** The delivered good-line ids (window: the number of events counted). */
  delivered(run: Run, dir: string): string[] | number | Promise<string[] | number>;
  /** Exit code under skip when some lines were skipped (produce says so with 1). */
  skipCode?: number;
}

function stdoutIds(run: Run): string[] {
  return run.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
    .filter((item) => item.$edgepipe === undefined).map((item) => item.id);
}

async function filesIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = join(path, entry.name);
      if (entry.isDirectory) await walk(full);
      else if (entry.name.endsWith(".ndjson")) {
        for (const line of (await Deno.readTextFile(full)).split("\n")) {
          if (line !== "") ids.push(JSON.parse(line).id);
        }
      }
    }
  };
  await walk(join(dir, "out"));
  return ids;
}

const SETUPS: Record<Stage, SetUp> = {
  filter: { args: (p) => ["filter", "--on-error", p, "event.value.n > 0.0"], delivered: stdoutIds },
  map: {
    args: (p) => ["map", "--on-error", p, '{"tag": event.value.tag, "n2": event.value.n * 2.0}'],
    delivered: stdoutIds,
  },
  score: { args: (p) => ["score", "--model", MODEL, "--on-error", p], delivered: stdoutIds },
  window: {
    args: (p) => [
      "window",
      "--key",
      "value.k",
      "--time",
      "value.ts",
      "--tumbling",
      "1h",
      "--on-error",
      p,
    ],
    delivered: (run) =>
      Promise.resolve(
        run.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
          .filter((item) => item.$edgepipe === undefined).reduce(
            (sum, result) => sum + result.value.count,
            0,
          ),
      ),
  },
  route: {
    // Whole envelopes, so that the delivered events can be told apart by id.
    args: (
      p,
    ) => ["route", "--to", "event.value.n > 0.0=stdout", "--payload", "envelope", "--on-error", p],
    delivered: stdoutIds,
  },
  "sink-file": {
    args: (p, dir) => [
      "sink",
      "file",
      join(dir, "out"),
      "--format",
      "ndjson",
      "--payload",
      "envelope",
      "--prefix",
      "origin={value.origin}/",
      "--on-error",
      p,
    ],
    delivered: (_run, dir) => filesIds(dir),
  },
  "sink-stdout": {
    args: (p) => ["sink", "stdout", "--payload", "envelope", "--on-error", p],
    delivered: stdoutIds,
  },
  produce: {
    args: (p, dir) => [
      "produce",
      topicOf(dir),
      "--service-url",
      SERVICE_URL,
      "--time-field",
      "ts",
      "--on-error",
      p,
    ],
    skipCode: 1,
    delivered: async (_run, dir) => {
      const read = await edgepipe([
        "consume",
        topicOf(dir),
        "--service-url",
        SERVICE_URL,
        "-s",
        "check",
        "-o",
        "earliest",
        "-e",
      ]);
      assert.equal(read.code, 0, read.stderr);
      return read.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
        .filter((item) => item.$edgepipe === undefined).map((item) => item.value.tag);
    },
  },
  replay: {
    args: (p, dir) => ["replay", join(dir, "input.ndjson"), "--time", "ts", "--on-error", p],
    fromFile: true,
    delivered: stdoutIds,
  },
};

function topicOf(dir: string): string {
  return `persistent://public/default/corpus-${dir.split("/").pop()!.replace(/\W/g, "")}`;
}

/** Under `fail`, the kind of bad line each stage meets (each kind once across stages). */
const FATAL: Record<Stage, string> = {
  filter: "binary garbage",
  map: "missing fields",
  score: "100k-deep nesting",
  window: "wrong field types",
  route: "Latin-1 text",
  "sink-file": "NaN token",
  "sink-stdout": "JSON null line",
  produce: "raw control character",
  replay: "truncated JSON",
};

function expectedGood(lines: CorpusLine[], stage: Stage, before = Infinity): string[] {
  return lines.slice(0, before).filter((l) => l.verdict !== "blank" && !isBadFor(l, stage))
    .map((l) => l.id!);
}

async function runStage(stage: Stage, policy: "skip" | "dead-letter" | "fail") {
  const setUp = SETUPS[stage];
  const dir = await Deno.makeTempDir({ prefix: `corpus_${stage}_` });
  try {
    let lines = corpus();
    if (policy === "fail") {
      lines = lines.filter((l) => !isBadFor(l, stage) || l.kind === FATAL[stage]);
    }
    const bytes = corpusBytes(lines);
    await Deno.writeFile(join(dir, "input.ndjson"), bytes);
    const deadLetters = join(dir, "dead.ndjson");
    const flag = policy === "dead-letter" ? `dead-letter=${deadLetters}` : policy;
    const run = await edgepipe(setUp.args(flag, dir), setUp.fromFile ? undefined : bytes);
    const bad = lines.map((line, i) => ({ line, number: i + 1 })).filter(({ line }) =>
      isBadFor(line, stage)
    );
    const label = `${stage} --on-error ${policy}`;
    if (policy === "fail") {
      const fatal = bad[0];
      assert.equal(run.code, 1, `${label}: exit code\n${run.stderr}`);
      const messages = run.stderr.split("\n").filter((l) => l !== "");
      assert.equal(messages.length, 1, `${label}: one line on stderr\n${run.stderr}`);
      assert.match(messages[0], new RegExp(`\\bline ${fatal.number}\\b`), label);
      if (fatal.line.id !== undefined) assert.match(messages[0], new RegExp(fatal.line.id), label);
      if (stage !== "window") {
        const delivered = await setUp.delivered(run, dir);
        assert.deepEqual(delivered, expectedGood(lines, stage, fatal.number - 1), label);
      }
      return;
    }
    const wanted = policy === "skip" && bad.length > 0 ? setUp.skipCode ?? 0 : 0;
    assert.equal(run.code, wanted, `${label}: exit code\n${run.stderr.slice(0, 2000)}`);
    const delivered = await setUp.delivered(run, dir);
    const good = expectedGood(lines, stage);
    if (typeof delivered === "number") assert.equal(delivered, good.length, label);
    else assert.deepEqual(delivered.sort(), good.sort(), label);
    if (policy === "skip") {
      // One notice per skipped line, each naming its line; blank lines say nothing.
      for (const { line, number } of bad) {
        const named = new RegExp(`\\bline ${number}\\b${line.id ? `|event ${line.id}\\b` : ""}`);
        assert.match(run.stderr, named, `${label}: line ${number}`);
      }
      return;
    }
    const records = (await Deno.readTextFile(deadLetters)).split("\n").filter((l) => l !== "")
      .map((l) => JSON.parse(l));
    assert.equal(records.length, bad.length, `${label}: one dead letter per bad line`);
    for (const { line, number } of bad) {
      // Terminal stages reject an event when its send fails, later than its line was read: they
      // name the event by its id.
      const record = records.find((r) =>
        r.deadLetter.line === number || (r.deadLetter.line === undefined && r.id === line.id)
      );
      assert.ok(record, `${label}: a dead letter for line ${number} (${line.kind})`);
      assert.equal(record.deadLetter.stage.replace(" ", "-"), stage);
      const raw = record.deadLetter.rawBase64 !== undefined
        ? Uint8Array.from(atob(record.deadLetter.rawBase64), (c) => c.charCodeAt(0))
        : record.deadLetter.raw !== undefined
        ? new TextEncoder().encode(record.deadLetter.raw)
        : undefined;
      if (raw !== undefined) {
        assert.deepEqual(raw, line.bytes, `${label}: raw bytes of ${line.kind}`);
      } else assert.equal(record.id, line.id, `${label}: the event of ${line.kind}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const stage of STAGES) {
  Deno.test(`bad-input corpus through ${stage} under skip, dead-letter and fail`, async () => {
    const failures: string[] = [];
    // The three runs at once: each is its own process.
    await Promise.all(
      (["skip", "dead-letter", "fail"] as const).map((policy) =>
        runStage(stage, policy).catch((err) => failures.push(`${policy}: ${err.message}`))
      ),
    );
    assert.deepEqual(failures, []);
  });
}
