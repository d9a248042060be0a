/**
 * The kill test of one stage in the middle of `consume -s S in | <stage> | produce out` on the
 * real broker: seeds the input topic, kills the middle stage with {@linkcode killPipe}, and
 * accounts for every expected event in the output topic, read back by the Java client.
 *
 * @module
 */
import { runEdgepipe } from "./edgepipe.ts";
import { killPipe, type KillPipeOptions, type KillPipeResult } from "./kill_pipe.ts";
import { javaReadPayloads, readPayloads, type Tally, tally } from "./output_audit.ts";
import { pulsarUrls } from "./pulsar.ts";
import { backlogOf, publishedCount } from "./topic_stats.ts";

/** What to seed, what to run in the middle, what must come out. */
export interface MiddleStageKillOptions {
  /** Names the topics (with a random suffix). */
  label: string;
  /** The middle stage's edgepipe arguments, e.g. `["filter", "event.value.ok"]`. */
  stage: string[];
  /** The input values, one unbatched message each (`produce --input json --key-field k`). */
  values: unknown[];
  /** More flags for seeding, e.g. `["--time-field", "t"]`. */
  seedFlags?: string[];
  /** More flags for the terminal produce, e.g. `["--payload", "envelope"]`. */
  produceFlags?: string[];
  /** The identity of every output record that must arrive (e.g. the kept events' `n`). */
  expected: number[];
  /** The identity of an output record, from its payload; throws when the record is wrong. */
  identify: (payload: unknown) => number;
  /** Mid-stream kills (default 3). */
  kills?: number;
  /** More flags for `consume` (e.g. `--max-unreported`, to bound how far it reads ahead). */
  consumeFlags?: string[];
  /** Which process to kill (default 1, the middle stage; see `KillPipeOptions.victim`). */
  victim?: KillPipeOptions["victim"];
}

/** What the run produced, for the test's assertions. */
export interface MiddleStageKillReport {
  kill: KillPipeResult;
  /** Messages the broker counted into the output topic (`msgInCounter`). */
  published: number;
  /** The output as the Java client read it, counted against `expected`. */
  output: Tally<number>;
  /** Records the Java client read (equal to `published` when nothing is hidden). */
  read: number;
  /** The source subscription's backlog after the last run (undefined: no subscription). */
  backlog: number | undefined;
}

const SUBSCRIPTION = "kill";

/** Runs the whole kill test; the caller asserts on the report. */
export async function middleStageKill(
  options: MiddleStageKillOptions,
): Promise<MiddleStageKillReport> {
  const { serviceUrl, adminUrl } = await pulsarUrls();
  const env = { PULSAR_SERVICE_URL: serviceUrl, NO_COLOR: "1" };
  const id = crypto.randomUUID().slice(0, 8);
  const source = `persistent://public/default/kill-${options.label}-in-${id}`;
  const target = `persistent://public/default/kill-${options.label}-out-${id}`;
  // Unbatched, so that an acknowledgement covers one event: acks of part of a batch do not
  // move the broker's cursor (without batch-index acks), and the whole batch would come again.
  const seeded = await runEdgepipe(
    [
      "produce",
      source,
      "--input",
      "json",
      "--key-field",
      "k",
      "--batch-max-messages",
      "1",
      ...(options.seedFlags ?? []),
    ],
    { env, stdin: options.values.map((v) => JSON.stringify(v)).join("\n") + "\n" },
  );
  if (seeded.code !== 0) throw new Error(`seeding ${source} failed: ${seeded.stderr}`);

  const identities = (payloads: string[]) => payloads.map((p) => options.identify(JSON.parse(p)));
  const kill = await killPipe({
    stages: [
      [
        "consume",
        source,
        "-s",
        SUBSCRIPTION,
        "-e",
        "--ack-timeout",
        "10s",
        ...(options.consumeFlags ?? []),
      ],
      options.stage,
      // Unbatched sends with a small window: the flow lasts long enough to be cut many times.
      [
        "produce",
        target,
        "--max-in-flight",
        "50",
        "--batch-max-messages",
        "1",
        ...(options.produceFlags ?? []),
      ],
    ],
    env,
    victim: options.victim ?? 1,
    kills: options.kills ?? 3,
    progress: () => publishedCount(adminUrl, target),
    accounted: async () =>
      tally(options.expected, identities(await readPayloads(target, env))).distinct,
    total: options.expected.length,
  });

  // The source's acknowledgements reach the broker's stats shortly after consume exits.
  let backlog = await backlogOf(adminUrl, source, SUBSCRIPTION);
  for (let tries = 0; backlog !== 0 && tries < 20; tries++) {
    await new Promise((r) => setTimeout(r, 250));
    backlog = await backlogOf(adminUrl, source, SUBSCRIPTION);
  }
  const published = await publishedCount(adminUrl, target);
  const payloads = await javaReadPayloads(serviceUrl, target, published);
  const output = tally(options.expected, identities(payloads));
  console.log(
    `    ${options.values.length} events in, ${options.expected.length} expected out; ` +
      `${published} published, ${output.distinct} distinct, ${output.duplicates} duplicates, ` +
      `${output.missing.length} missing, ${output.unexpected.length} unexpected; ` +
      `source backlog ${backlog}`,
  );
  return { kill, published, output, read: payloads.length, backlog };
}
