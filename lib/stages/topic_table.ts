/**
 * A Pulsar topic read as a table for lookup joins: the latest value per key, like the Java
 * client's `TableView`. The topic is read from its start (its compacted view where the broker has
 * one) until its end before the first event is joined; after that, new messages keep updating
 * the table while the pipeline runs, so a join always sees the latest reference data. An empty
 * payload is a tombstone: it removes its key.
 *
 * @module
 */
import { getPath } from "../envelope.ts";
import { UsageError } from "../errors.ts";
import type { Message, PulsarClient, Reader } from "../pulsar/mod.ts";
import { joinKeyOf, loadReference, type ReferenceTable } from "./join.ts";
import { WatchedReferenceFile } from "./reference_file.ts";

/** A live table and how to stop following its topic (or watching its file). */
export interface LiveReference {
  /**
   * Reference records by join key: a topic's table is updated in place, a watched file's is
   * replaced by a new one at each reload (read it per event: pass the reference to `join`).
   */
  readonly table: ReferenceTable;
  /** Messages applied since the start (loading included). */
  readonly applied: number;
  /** Stops following the topic. */
  close(): Promise<void>;
}

/** The key of the table: a field of each record, or the message key with `@key`. */
function keyOf(message: Message, value: unknown, refPath: string): string | undefined {
  return refPath === "@key" ? message.key : joinKeyOf(getPath(value, refPath));
}

/**
 * Reads `topic` into a table keyed by the field `refPath` of each JSON record (or by the message
 * key, `@key`); returns once the table holds the whole topic, and keeps it up to date.
 */
export async function openTopicTable(
  client: PulsarClient,
  topic: string,
  refPath: string,
  log: (message: string) => void = (m) => console.error(m),
): Promise<LiveReference> {
  const reader = await client.createReader({ topic, startAt: "earliest", readCompacted: true });
  const table: ReferenceTable = new Map();
  let applied = 0;
  let skipped = 0;
  const apply = (message: Message) => {
    applied++;
    if (message.payload.length === 0) {
      if (message.key !== undefined) table.delete(message.key);
      return;
    }
    let value: unknown;
    try {
      value = message.json();
    } catch {
      if (skipped++ === 0) {
        log(`edgepipe: reference topic ${topic}: a message is not JSON, skipped`);
      }
      return;
    }
    const key = keyOf(message, value, refPath);
    if (key === undefined) {
      if (skipped++ === 0) log(`edgepipe: reference topic ${topic}: a record has no '${refPath}'`);
      return;
    }
    table.set(key, value);
  };
  try {
    while (await reader.hasMessageAvailable()) apply(await reader.readNext());
  } catch (error) {
    await reader.close().catch(() => {});
    throw error;
  }
  const following = follow(reader, apply, topic, log);
  return {
    table,
    get applied() {
      return applied;
    },
    async close() {
      await reader.close().catch(() => {});
      await following;
    },
  };
}

async function follow(
  reader: Reader,
  apply: (message: Message) => void,
  topic: string,
  log: (message: string) => void,
): Promise<void> {
  try {
    for await (const message of reader) apply(message);
  } catch (error) {
    // Closed on purpose, or lost: the table keeps its last contents; say so once.
    if (!(error instanceof Error && /closed/i.test(error.message))) {
      log(`edgepipe: reference topic ${topic} is no longer followed: ${(error as Error).message}`);
    }
  }
}

/** Options of {@linkcode openReference}. */
export interface ReferenceOptions {
  /** A file: milliseconds between looks at it, reloaded when it changes; unset: loaded once. */
  watchIntervalMs?: number;
  /** A file: one line per reload or refusal, without a prefix (default: stderr). */
  log?: (message: string) => void;
}

/**
 * The reference a `--join` names: an NDJSON file (reloaded when it changes, with
 * `watchIntervalMs`), or `topic:<topic>` followed live (the broker from the environment:
 * PULSAR_SERVICE_URL, PULSAR_AUTH_TOKEN, … as for `consume`).
 */
export async function openReference(
  spec: string,
  refPath: string,
  options: ReferenceOptions = {},
): Promise<LiveReference> {
  if (!spec.startsWith("topic:")) {
    const { watchIntervalMs, log } = options;
    if (watchIntervalMs !== undefined && watchIntervalMs > 0) {
      return await WatchedReferenceFile.open(spec, refPath, { intervalMs: watchIntervalMs, log });
    }
    const table = await loadReference(spec, refPath);
    return { table, applied: table.size, close: () => Promise.resolve() };
  }
  const topic = spec.slice("topic:".length);
  if (topic === "") throw new UsageError("--join topic:<topic>: the topic is missing");
  const { PulsarClient } = await import("../pulsar/mod.ts");
  const { clientOptions } = await import("../sources/pulsar_connect.ts");
  const client = new PulsarClient(await clientOptions({}));
  try {
    const live = await openTopicTable(client, topic, refPath);
    return {
      table: live.table,
      get applied() {
        return live.applied;
      },
      async close() {
        await live.close();
        await client.close();
      },
    };
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
}
