/**
 * Scrapes a command's `--metrics` endpoint and parses it with the Prometheus project's own
 * Python client (`prometheus_client.parser`), not with edgepipe's code.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePortSync } from "./process.ts";

/** A local port that was just free (below the ephemeral range; see `freePortSync`). */
export function freePort(): number {
  return freePortSync();
}

const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
keep = sys.argv[1].split(",")
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        kept = ",".join("%s=%s" % (k, s.labels[k]) for k in keep if k in s.labels)
        name = s.name + ("{%s}" % kept if kept else "")
        out[name] = out.get(name, 0) + s.value
print(json.dumps({k: (None if v != v else v) for k, v in out.items()}))
`;

/**
 * The samples of a scrape as the Prometheus client parses them: name → value, summed over
 * labels, except those in `keep`: histogram buckets keep their bound (`name_bucket{le=0.5}`), and
 * `keep = ["event"]` gives `edgepipe_client_status_total{event=reconnecting}`. NaN is `null`.
 */
export async function scrape(
  port: number,
  keep: string[] = ["le"],
): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return await parseMetrics(text, keep);
}

/** {@linkcode scrape} for text scraped earlier. */
export async function parseMetrics(
  text: string,
  keep: string[] = ["le"],
): Promise<Record<string, number>> {
  return JSON.parse(await parseWith(PARSE, text, [keep.join(",")]));
}

const PARSE_LABELLED = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
`;

/** One sample as the Prometheus client parses it, labels and all. */
export interface LabelledSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample of a scrape with its labels, as the Prometheus client parses them. */
export async function scrapeLabelled(port: number): Promise<LabelledSample[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return JSON.parse(await parseWith(PARSE_LABELLED, text));
}

async function parseWith(program: string, text: string, args: string[] = []): Promise<string> {
  const child = new Deno.Command("python3", {
    args: ["-c", program, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}
