/**
 * A corpus of bad (and awkward but good) NDJSON input lines, built from first principles: which
 * line is good, which is bad for which stage, and what exact bytes each line holds. The corpus
 * test (`bad_input_corpus_test.ts`) runs it through every stage under the three error policies.
 *
 * @module
 */

/** The stages the corpus runs through. */
export const STAGES = [
  "filter",
  "map",
  "score",
  "window",
  "route",
  "sink-file",
  "sink-stdout",
  "produce",
  "replay",
] as const;

/** One stage set-up. */
export type Stage = typeof STAGES[number];

/** One line of input. */
export interface CorpusLine {
  /** What kind of line this is, for messages. */
  kind: string;
  /** The exact bytes, without the line end. */
  bytes: Uint8Array;
  /** Line end written after it. */
  end: "\n" | "\r\n";
  /**
   * `good`: delivered by every stage; `blank`: skipped silently by every stage; otherwise the
   * stages that must reject it (every other stage delivers it).
   */
  verdict: "good" | "blank" | { badFor: readonly Stage[] | "all" };
  /** The id of the event, for good lines and bad lines that parse. */
  id?: string;
}

const encoder = new TextEncoder();
const ALL = "all" as const;
/** 2001-03-12T06:00:00Z, from first principles: 11,393 days after 1970-01-01, plus 6 h. */
export const T0 = (11_393 * 86_400 + 6 * 3600) * 1000;

/** The value fields every stage of the corpus test needs (filter/map/route `n`, window `k`/`ts`, score the flight features, sink file `origin`). */
function goodValue(i: number): Record<string, unknown> {
  return {
    tag: `g${i}`,
    n: i + 1,
    k: "a",
    ts: T0 + i * 1000,
    origin: "SFO",
    destination: "LAX",
    distance: 337,
  };
}

function goodEnvelope(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: `g${i}`, eventTime: T0 + i * 1000, value: { ...goodValue(i), ...extra } };
}

function text(kind: string, line: string, verdict: CorpusLine["verdict"], id?: string): CorpusLine {
  return { kind, bytes: encoder.encode(line), end: "\n", verdict, id };
}

function good(i: number, kind = "plain"): CorpusLine {
  return text(kind, JSON.stringify(goodEnvelope(i)), "good", `g${i}`);
}

/** Splices `inner` (raw JSON text) in as the value field `name` of good event `i`. */
function goodWithRaw(i: number, kind: string, name: string, inner: string): CorpusLine {
  const base = JSON.stringify(goodEnvelope(i));
  const line = base.slice(0, -2) + `,"${name}":${inner}}}`;
  return text(kind, line, "good", `g${i}`);
}

/** Every kind of line in the corpus, in one fixed order; `size` good lines are spread among them. */
export function corpus(): CorpusLine[] {
  let next = 0;
  const lines: CorpusLine[] = [];
  const pushGood = (count: number) => {
    for (let j = 0; j < count; j++) lines.push(good(next++));
  };
  const bom = good(next++, "BOM at file start");
  bom.bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...bom.bytes]);
  lines.push(bom);
  pushGood(3);
  const crlf = good(next++, "CRLF line end");
  crlf.end = "\r\n";
  lines.push(crlf);
  lines.push(text("blank line", "", "blank"));
  lines.push(text("whitespace-only line", "   \t ", "blank"));
  pushGood(2);
  // Random-looking bytes with no line end and no valid UTF-8 (0xff never occurs in UTF-8).
  lines.push({
    kind: "binary garbage",
    bytes: new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x9c, 0x80, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28]),
    end: "\n",
    verdict: { badFor: ALL },
  });
  pushGood(2);
  // "Zürich" in Latin-1: 0xfc alone is not UTF-8.
  const latin1 = encoder.encode('{"id":"latin1","value":{"city":"Z?rich"}}');
  latin1[latin1.indexOf(0x3f)] = 0xfc;
  lines.push({ kind: "Latin-1 text", bytes: latin1, end: "\n", verdict: { badFor: ALL } });
  pushGood(1);
  lines.push(text("truncated JSON", '{"id":"trunc","value":{"n":1', { badFor: ALL }));
  pushGood(1);
  const depth = 100_000;
  lines.push(
    text(
      "100k-deep nesting",
      `{"id":"deep","value":${"[".repeat(depth)}${"]".repeat(depth)}}`,
      { badFor: ALL },
    ),
  );
  pushGood(1);
  lines.push(text("JSON array line", "[1,2,3]", { badFor: ALL }));
  lines.push(text("JSON number line", "42", { badFor: ALL }));
  lines.push(text("JSON string line", '"a string"', { badFor: ALL }));
  lines.push(text("JSON null line", "null", { badFor: ALL }));
  pushGood(1);
  lines.push(goodWithRaw(next++, "huge number", "big", "1e400"));
  lines.push(goodWithRaw(next++, "huge integer", "big", "123456789012345678901234567890"));
  lines.push(text("NaN token", '{"id":"nan","value":{"n":NaN}}', { badFor: ALL }));
  lines.push(text("Infinity token", '{"id":"inf","value":{"n":Infinity}}', { badFor: ALL }));
  lines.push(goodWithRaw(next++, "duplicate keys", "n", "5"));
  lines.push(goodWithRaw(next++, "__proto__ key", "__proto__", '{"polluted":true}'));
  lines.push(goodWithRaw(next++, "constructor key", "constructor", '"c"'));
  pushGood(1);
  lines.push(goodWithRaw(next++, "line over 1 MiB", "pad", JSON.stringify("x".repeat(1_100_000))));
  lines.push(goodWithRaw(next++, "escaped control characters", "s", '"\\u0001\\u001f\\t"'));
  const raw = encoder.encode('{"id":"ctrl","value":{"s":"a?b"}}');
  raw[raw.indexOf(0x3f)] = 0x01;
  lines.push({ kind: "raw control character", bytes: raw, end: "\n", verdict: { badFor: ALL } });
  lines.push(goodWithRaw(next++, "escaped lone surrogate", "s", '"\\ud800 \\udfff"'));
  pushGood(1);
  // Missing fields: no n (filter, map, route), no ts (window, replay), no origin/distance (score,
  // sink file); produce has no required field beyond a value.
  lines.push(
    text("missing fields", '{"id":"missing","value":{"tag":"missing","k":"a"}}', {
      badFor: ["filter", "map", "score", "window", "route", "sink-file", "replay"],
    }, "missing"),
  );
  pushGood(1);
  lines.push(
    text(
      "wrong field types",
      JSON.stringify({
        id: "wrong",
        value: {
          tag: "wrong",
          n: "x",
          k: "a",
          ts: "yesterday",
          origin: "SFO",
          destination: 7,
          distance: "far",
        },
      }),
      { badFor: ["filter", "map", "score", "window", "route", "produce", "replay"] },
      "wrong",
    ),
  );
  pushGood(3);
  return lines;
}

/** The corpus as one input file. */
export function corpusBytes(lines: CorpusLine[]): Uint8Array {
  const parts = lines.flatMap((line) => [line.bytes, encoder.encode(line.end)]);
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Whether `stage` must reject `line`. */
export function isBadFor(line: CorpusLine, stage: Stage): boolean {
  if (typeof line.verdict === "string") return false;
  return line.verdict.badFor === "all" || line.verdict.badFor.includes(stage);
}
