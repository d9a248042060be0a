/**
 * Scale-out of the windowing pipe on one Failover subscription:
 * `consume --type failover --announce-partitions | window --key value.origin --tumbling 1h … |
 * produce`, over the real flights (copied COPIES times, a day apart) on a 6-partition topic keyed
 * by origin, a new subscription each run. Two questions, answered in the same interleaved rounds:
 *
 * - events/s of 1, 2 and 3 instances with `--checkpoint-store` (a shared directory, and S3);
 * - what a shared store costs one instance against `--checkpoint-dir` (local, one file per
 *   instance): 1 instance with each.
 *
 * Events per wall second from the spawn of the instances until every input event is acknowledged
 * (the subscription's precise backlog is 0: each event is in a durable checkpoint) and the output
 * topic holds a result for every (origin, hour) (one closing event per partition ends the last
 * hour); process starts included. Ratios are per round, against `--checkpoint-dir` with one
 * instance. Needs PULSAR_SERVICE_URL / PULSAR_ADMIN_URL and S3_ENDPOINT with AWS keys (run it
 * under `test/harness/with_servers.ts`).
 *
 * ```sh
 * deno run -A test/harness/with_servers.ts deno run -A bench/failover_window_bench.ts [copies=10] [rounds=3]
 * ```
 *
 * @module
 */
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { interleave, machineState, ratio, spread, table } from "./_rounds.ts";
import { MAIN, startPipeGroups } from "./_spawn.ts";
import { PulsarAdmin } from "../lib/pulsar/mod.ts";
import { partitionFor } from "../lib/pulsar/routing.ts";
import { newS3Client, s3ConnectionFromEnv } from "../lib/sinks/s3.ts";

const COPIES = Number(Deno.args[0] ?? 10);
const ROUNDS = Number(Deno.args[1] ?? 3);
const PARTITIONS = 6;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FLIGHTS = new URL("../examples/data/flights-2001-03-12-morning.ndjson", import.meta.url);
const serviceUrl = Deno.env.get("PULSAR_SERVICE_URL") ?? "pulsar://127.0.0.1:6650";
const adminUrl = Deno.env.get("PULSAR_ADMIN_URL") ?? "http://127.0.0.1:8080";
const admin = new PulsarAdmin({ adminUrl });
const ep = `deno run -A --no-check ${MAIN}`;
const id = crypto.randomUUID().slice(0, 8);
const bucket = `bench-follow-${id}`;
const scratch = await Deno.makeTempDir({ prefix: "edgepipe-follow-bench-" });

{
  const client = newS3Client(s3ConnectionFromEnv());
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
}

// The input: the flights COPIES times, one day apart; one closing event per partition after.
const input = `persistent://public/default/bench-follow-in-${id}`;
await admin.createTopic(input, PARTITIONS);
const flights = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").map((l) => JSON.parse(l));
const windows = new Set<string>();
let text = "";
let last = -Infinity;
for (let c = 0; c < COPIES; c++) {
  for (const f of flights) {
    const eventTime = f.eventTime + c * DAY;
    windows.add(`${f.value.origin}@${Math.floor(eventTime / HOUR)}`);
    last = Math.max(last, eventTime);
    text += JSON.stringify({ key: f.value.origin, eventTime, value: f.value }) + "\n";
  }
}
for (let p = 0, n = 0; p < PARTITIONS; n++) {
  const key = `~close-${n}`;
  if (partitionFor(key, PARTITIONS) !== p) continue;
  text += JSON.stringify({ key, eventTime: last + 2 * HOUR, value: { origin: key } }) + "\n";
  p++;
}
const EVENTS = COPIES * flights.length + PARTITIONS;
{
  const child = new Deno.Command("sh", {
    args: ["-c", `${ep} produce ${input} --service-url ${serviceUrl}`],
    stdin: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  if (!(await child.status).success) throw new Error("producing the input failed");
}

async function stat(topic: string): Promise<Record<string, unknown>> {
  const local = topic.replace("persistent://", "");
  const response = await fetch(`${adminUrl}/admin/v2/persistent/${local}/stats`);
  return await response.json();
}

/** Results published to `output`, and the input events `subscription` has not acknowledged. */
async function progress(output: string, subscription: string): Promise<[number, number]> {
  let published = 0;
  let backlog = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    published += Number((await stat(`${output}-partition-${p}`)).msgInCounter ?? 0);
    const subs = (await stat(`${input}-partition-${p}`)).subscriptions as
      | Record<string, { msgBacklog: number }>
      | undefined;
    backlog += subs?.[subscription]?.msgBacklog ?? EVENTS;
  }
  return [published, backlog];
}

type Store = "local" | "dir" | "s3";

async function instances(n: number, store: Store): Promise<number> {
  const run = crypto.randomUUID().slice(0, 8);
  const output = `persistent://public/default/bench-follow-out-${run}`;
  await admin.createTopic(output, PARTITIONS);
  const subscription = `s-${run}`;
  const state = (i: number) =>
    store === "local"
      ? `--checkpoint-dir ${scratch}/${run}-${i}`
      : store === "dir"
      ? `--checkpoint-store ${scratch}/${run}`
      : `--checkpoint-store s3://${bucket}/${run}`;
  const pipe = (i: number) =>
    `${ep} consume ${input} -s ${subscription} --type failover --announce-partitions ` +
    `--service-url ${serviceUrl} | ${ep} window --key value.origin --tumbling 1h ${state(i)} ` +
    `| ${ep} produce ${output} --service-url ${serviceUrl}`;
  const started = performance.now();
  const group = startPipeGroups(Array.from({ length: n }, (_, i) => pipe(i)));
  let got: [number, number] = [0, EVENTS];
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    got = await progress(output, subscription);
    if (got[0] >= windows.size && got[1] === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  await group.stop();
  if (got[0] < windows.size || got[1] > 0) {
    // A run that did not finish within the deadline is reported, not measured.
    console.error(
      `  ${n} instances (${store}): stalled after 120 s with ${got[0]} of ${windows.size} ` +
        `results and ${got[1]} events not acknowledged`,
    );
    return NaN;
  }
  return EVENTS / seconds;
}

const contenders: { name: string; n: number; store: Store }[] = [
  { name: "1, --checkpoint-dir (local)", n: 1, store: "local" },
  { name: "1, --checkpoint-store DIR", n: 1, store: "dir" },
  { name: "1, --checkpoint-store s3://", n: 1, store: "s3" },
  { name: "2, --checkpoint-store DIR", n: 2, store: "dir" },
  { name: "3, --checkpoint-store DIR", n: 3, store: "dir" },
  { name: "2, --checkpoint-store s3://", n: 2, store: "s3" },
  { name: "3, --checkpoint-store s3://", n: 3, store: "s3" },
];
const results = await interleave(
  contenders.map((c) => ({ name: c.name, run: () => instances(c.n, c.store) })),
  ROUNDS,
);
const local = results.get(contenders[0].name)!;
console.log(
  `${EVENTS.toLocaleString("en")} events (${COPIES} copies of the flights), ${windows.size} ` +
    `windows, 6 partitions, ${ROUNDS} rounds`,
);
console.log(table(
  ["instances, state", "events/s", "vs 1 local", "vs 1 of the same store", "stalled"],
  contenders.map((c) => {
    const values = results.get(c.name)!;
    const one = results.get(contenders.find((o) => o.n === 1 && o.store === c.store)!.name)!;
    // Rounds where either side stalled are left out of the figures.
    const ok = values.map((v, i) => [v, local[i], one[i]]).filter((r) => r.every(Number.isFinite));
    const [v, l, o] = [0, 1, 2].map((k) => ok.map((r) => r[k]));
    const stalled = values.filter((x) => !Number.isFinite(x)).length;
    if (ok.length === 0) return [c.name, "–", "–", "–", String(stalled)];
    return [c.name, spread(v), ratio(v, l), ratio(v, o), String(stalled)];
  }),
));
console.log(await machineState());
await Deno.remove(scratch, { recursive: true });
