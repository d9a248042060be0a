/**
 * Scrapes a command's `--metrics` endpoint and parses it with the Prometheus project's own
 * Python client (`prometheus_client.parser`), not with edgepipe's code.
 *
 * @module
 */
import assert from "node:assert/strict";

/** A local port that was just free. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
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
  const child = new Deno.Command("python3", {
    args: ["-c", PARSE, keep.join(",")],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
