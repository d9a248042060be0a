/**
 * Resident memory of `edgepipe consume -s S topic | cat > file` (downstream acks, nothing ever
 * reports) while it faces a large topic: RSS sampled from /proc every 500 ms against the lines
 * written so far. Results: bench/consume_rss_results.md.
 *
 *   deno run -A bench/consume_rss.ts [--messages 1000000] [--topic T] [--main path/to/cli/main.ts]
 *
 * Needs PULSAR_SERVICE_URL. Without --topic it first produces the messages (about 130 bytes each).
 * It stops when nothing more was written for 10 s, or after 180 s.
 */
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string", default: "1000000" },
    topic: { type: "string" },
    main: { type: "string", default: new URL("../cli/main.ts", import.meta.url).pathname },
    "extra": { type: "string", multiple: true, default: [] },
  },
}).values;
const total = Number(args.messages);
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL");
if (!serviceUrl) throw new Error("set PULSAR_SERVICE_URL");
const env = { PULSAR_SERVICE_URL: serviceUrl };

let topic = args.topic;
if (!topic) {
  topic = `persistent://public/default/rss-${crypto.randomUUID().slice(0, 8)}`;
  const produce = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", args.main, "produce", topic, "--input", "json"],
    env,
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const writer = produce.stdin.getWriter();
  const encoder = new TextEncoder();
  for (let n = 0; n < total; n += 10_000) {
    const lines = [];
    for (let i = n; i < Math.min(total, n + 10_000); i++) {
      lines.push(JSON.stringify({ n: i, pad: "p".repeat(100) }));
    }
    await writer.write(encoder.encode(lines.join("\n") + "\n"));
  }
  await writer.close();
  if (!(await produce.status).success) throw new Error("produce failed");
  console.log(`produced ${total} messages to ${topic}`);
}

const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    args.main,
    "consume",
    topic,
    "-s",
    `rss-${Date.now()}`,
    "--ack",
    "downstream",
    ...args.extra,
  ],
  env,
  stdout: "piped",
  stderr: "piped",
}).spawn();
let lines = 0;
const reading = child.stdout.pipeTo(
  new WritableStream({
    write: (bytes) => {
      for (const b of bytes) if (b === 10) lines++;
    },
  }),
);
let stderr = "";
const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
  new WritableStream({ write: (text) => void (stderr += text) }),
);
const rss = async () =>
  Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${child.pid}/status`))?.[1]);

const started = Date.now();
let lastChange = Date.now();
let lastLines = 0;
const samples: [number, number, number][] = [];
while (Date.now() - started < 180_000 && Date.now() - lastChange < 10_000) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const kib = await rss();
  samples.push([(Date.now() - started) / 1000, lines, kib]);
  if (lines !== lastLines) lastChange = Date.now();
  lastLines = lines;
}
child.kill("SIGTERM");
await child.status;
await Promise.all([reading.catch(() => {}), stderrDone.catch(() => {})]);

console.log("| seconds | lines written | RSS MiB |");
console.log("| ------- | ------------- | ------- |");
const step = Math.max(1, Math.floor(samples.length / 20));
for (let i = 0; i < samples.length; i += step) {
  const [s, l, k] = samples[i];
  console.log(`| ${s.toFixed(1)} | ${l} | ${(k / 1024).toFixed(0)} |`);
}
const [s, l, k] = samples.at(-1)!;
console.log(`| ${s.toFixed(1)} | ${l} | ${(k / 1024).toFixed(0)} |`);
console.log(`peak RSS ${(Math.max(...samples.map((x) => x[2])) / 1024).toFixed(0)} MiB`);
console.log(`stderr:\n${stderr.trim()}`);
