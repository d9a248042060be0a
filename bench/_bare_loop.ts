/**
 * The bare NDJSON loop the stage benchmarks compare against: stdin in 64 KiB reads, split into
 * lines, each line `JSON.parse`d and `JSON.stringify`d (or summed into a Map with `--window`),
 * stdout written once per chunk. No edgepipe code, so the baseline does not move when
 * edgepipe's own reader and writer change.
 *
 * ```sh
 * deno run bench/_bare_loop.ts [--select <field> <min>] < in.ndjson > out.ndjson
 * ```
 *
 * @module
 */
const args = Deno.args;
const select = args[0] === "--select" ? { field: args[1], min: Number(args[2]) } : undefined;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
let rest = "";
for await (const chunk of Deno.stdin.readable) {
  const text = rest + decoder.decode(chunk, { stream: true });
  const lines = text.split("\n");
  rest = lines.pop()!;
  let out = "";
  for (const line of lines) {
    if (line === "") continue;
    const event = JSON.parse(line);
    if (select && !(event.value[select.field] > select.min)) continue;
    out += JSON.stringify(event) + "\n";
  }
  if (out !== "") await Deno.stdout.write(encoder.encode(out));
}
if (rest !== "") await Deno.stdout.write(encoder.encode(JSON.stringify(JSON.parse(rest)) + "\n"));
