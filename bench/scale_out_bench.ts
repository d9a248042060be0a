/**
 * Scale-out of a stateless pipe on one Shared subscription: `consume --type shared | map |
 * produce`, as 1, 2 and 3 instances started together on a 6-partition topic holding the same
 * messages (a new subscription each run). Messages per wall second from the start until the
 * output topic holds them all (the broker's count; process starts included), in interleaved
 * rounds, as per-round ratios against one instance (median and range); then the pipes are
 * stopped. Needs PULSAR_SERVICE_URL and PULSAR_ADMIN_URL.
 *
 * ```sh
 * deno run -A bench/scale_out_bench.ts [messages=60000] [rounds=3]
 * ```
 *
 * @module
 */
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";
import { MAIN, startPipeGroups } from "./_spawn.ts";
import { PulsarAdmin } from "../lib/pulsar/mod.ts";

const MESSAGES = Number(Deno.args[0] ?? 60_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const adminUrl = Deno.env.get("PULSAR_ADMIN_URL") ?? "http://127.0.0.1:8080";
const admin = new PulsarAdmin({ adminUrl });
const ep = `deno run -A --no-check ${MAIN}`;

const id = crypto.randomUUID().slice(0, 8);
const input = `persistent://public/default/bench-scale-in-${id}`;
await admin.createTopic(input, 6);
{
  let text = "";
  for (let i = 0; i < MESSAGES; i++) {
    text += JSON.stringify({ key: `k${i % 1000}`, value: { i, pad: "x".repeat(80) } }) + "\n";
  }
  const child = new Deno.Command("sh", {
    args: ["-c", `${ep} produce ${input} --service-url ${serviceUrl}`],
    stdin: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  if (!(await child.status).success) throw new Error("producing the input failed");
}

async function published(topic: string): Promise<number> {
  let total = 0;
  for (let p = 0; p < 6; p++) {
    const local = `${topic}-partition-${p}`.replace("persistent://", "");
    const response = await fetch(`${adminUrl}/admin/v2/persistent/${local}/stats`);
    const stats = await response.json();
    total += Number(stats.msgInCounter ?? 0);
  }
  return total;
}

async function instances(n: number): Promise<number> {
  const run = crypto.randomUUID().slice(0, 8);
  const output = `persistent://public/default/bench-scale-out-${run}`;
  await admin.createTopic(output, 6);
  const pipe = `${ep} consume ${input} -s s-${run} --type shared --service-url ${serviceUrl}` +
    ` | ${ep} map '{"i": event.value.i}' | ${ep} produce ${output} --service-url ${serviceUrl}`;
  const started = performance.now();
  const group = startPipeGroups(Array.from({ length: n }, () => pipe));
  let got = 0;
  const deadline = Date.now() + 300_000;
  while ((got = await published(output)) < MESSAGES && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  await group.stop();
  if (got < MESSAGES) throw new Error(`${n} instances delivered ${got} of ${MESSAGES}`);
  return MESSAGES / seconds;
}

const results = await interleave(
  [1, 2, 3].map((n) => ({ name: `${n} instance${n > 1 ? "s" : ""}`, run: () => instances(n) })),
  ROUNDS,
);
const one = results.get("1 instance")!;
console.log(`${MESSAGES.toLocaleString("en")} messages on 6 partitions, ${ROUNDS} rounds`);
console.log(table(
  ["instances", "messages/s", "vs 1"],
  [...results.entries()].map(([name, values]) => [name, spread(values), ratio(values, one)]),
));
console.log(await machineState());
