/**
 * Reading a test's output topic back and accounting for every expected event: how many arrived,
 * how many twice or more, which are missing, which should not be there at all.
 *
 * Two readers: edgepipe's own non-durable reader (fast, for counting between kill rounds) and the
 * Java client's `bin/pulsar-client read` (the independent check of the final result).
 *
 * @module
 */
import { runEdgepipe } from "./edgepipe.ts";
import { consumedContents, pulsarClient } from "./java_client.ts";

/** The payload of every message in `topic`, oldest first, read by `edgepipe consume -e`. */
export async function readPayloads(topic: string, env: Record<string, string>): Promise<string[]> {
  const read = await runEdgepipe(["consume", topic, "-e", "-f", "%s\n"], { env });
  if (read.code !== 0) throw new Error(`reading ${topic} failed (${read.code}): ${read.stderr}`);
  return read.stdout === "" ? [] : read.stdout.trimEnd().split("\n");
}

/**
 * The payload of the first `count` messages of `topic`, read by the Java client (a reader from
 * the earliest message: no subscription is left behind). It waits until `count` messages came.
 */
export async function javaReadPayloads(
  serviceUrl: string,
  topic: string,
  count: number,
): Promise<string[]> {
  if (count === 0) return [];
  const output = await pulsarClient({ serviceUrl }, [
    "read",
    topic,
    "-m",
    "earliest",
    "-n",
    String(count),
  ]);
  return consumedContents(output);
}

/** How the output accounts for the expected events. */
export interface Tally<T> {
  /** Output records that are expected events, each counted once. */
  distinct: number;
  /** Output records beyond the first of the same event. */
  duplicates: number;
  /** Expected events not in the output, in expected order. */
  missing: T[];
  /** Output records that are no expected event. */
  unexpected: T[];
}

/**
 * Counts `seen` (the identity of each output record, e.g. the input event's number) against
 * `expected` (every identity that must arrive, once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tally } from "./output_audit.ts";
 *
 * assert.deepEqual(tally([1, 2, 3, 4], [1, 2, 2, 4, 9]), {
 *   distinct: 3,
 *   duplicates: 1,
 *   missing: [3],
 *   unexpected: [9],
 * });
 * ```
 */
export function tally<T>(expected: Iterable<T>, seen: Iterable<T>): Tally<T> {
  const counts = new Map<T, number>();
  for (const id of expected) counts.set(id, 0);
  const unexpected: T[] = [];
  let duplicates = 0;
  for (const id of seen) {
    const count = counts.get(id);
    if (count === undefined) unexpected.push(id);
    else {
      if (count > 0) duplicates++;
      counts.set(id, count + 1);
    }
  }
  const missing = [...counts].filter(([, count]) => count === 0).map(([id]) => id);
  return { distinct: counts.size - missing.length, duplicates, missing, unexpected };
}
