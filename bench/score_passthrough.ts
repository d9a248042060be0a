/**
 * The NDJSON floor for bench/score_pipeline.ts: reads envelopes from stdin and writes them back
 * with the same reader and writer as `edgepipe score`, without scoring.
 *
 * @module
 */
import { LineWriter, parseItem, readLines } from "../lib/ndjson.ts";

const output = new LineWriter();
for await (const line of readLines(Deno.stdin.readable)) await output.write(parseItem(line));
await output.flush();
