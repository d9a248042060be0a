/**
 * What the uplink-outage tests share: events published to MQTT device topics (one topic per key,
 * `{n, k}` payloads numbered in publish order), the store-and-forward buffer's size on disk, a
 * process's RSS, and the audit of what arrived (duplicates and missing counted apart, order per
 * key checked on first appearances).
 *
 * @module
 */
import assert from "node:assert/strict";
import { mosquittoPubLines } from "./mosquitto.ts";

/** One published event. */
export interface DeviceEvent {
  n: number;
  k: number;
}

/** A process's resident set size in KiB (NaN once it is gone). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** Bytes in the buffer's segment files (0 before the buffer exists). */
export async function segmentBytes(dir: string): Promise<number> {
  let total = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.endsWith(".seg")) total += (await Deno.stat(`${dir}/${e.name}`)).size;
    }
  } catch { /* not made yet */ }
  return total;
}

/** Polls `ready` every 250 ms until it is true; an error names `what`. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let failure: unknown;
  while (!(await ready().catch((err) => (failure = err, false)))) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`, { cause: failure });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until the buffer holds at least `atLeast` bytes and has not changed for 2 s. */
export async function bufferSettled(dir: string, atLeast: number): Promise<number> {
  let last = -1;
  let since = Date.now();
  await waitUntil("the buffer to settle", 90_000, async () => {
    const now = await segmentBytes(dir);
    if (now !== last) (last = now, since = Date.now());
    return now >= atLeast && Date.now() - since > 2000;
  });
  return last;
}

/** Publishes numbered events to `<prefix>/<k>`, one MQTT topic per key, counting on from `first`. */
export class DevicePublisher {
  #next = 0;
  constructor(readonly port: number, readonly prefix: string, readonly keys: number) {}

  /** Publishes the next `count` events (QoS 1, with `mosquitto_pub`). */
  async publish(count: number): Promise<void> {
    const byKey: string[][] = Array.from({ length: this.keys }, () => []);
    for (let i = 0; i < count; i++, this.#next++) {
      byKey[this.#next % this.keys].push(
        JSON.stringify({ n: this.#next, k: this.#next % this.keys }),
      );
    }
    for (let k = 0; k < this.keys; k++) {
      await mosquittoPubLines(this.port, `${this.prefix}/${k}`, byKey[k]);
    }
  }

  /** Events published so far. */
  get published(): number {
    return this.#next;
  }
}

/** What arrived, against `0 … total-1`. */
export interface OutageAudit {
  distinct: number;
  duplicates: number;
  missing: number[];
}

/**
 * Counts what `arrived` (in arrival order) holds of `0 … total-1`; asserts that each key's events
 * first appear in publish order.
 */
export function auditArrivals(arrived: DeviceEvent[], total: number): OutageAudit {
  const seen = new Set<number>();
  const lastPerKey = new Map<number, number>();
  let duplicates = 0;
  for (const { n, k } of arrived) {
    if (seen.has(n)) {
      duplicates++;
      continue;
    }
    seen.add(n);
    assert.ok((lastPerKey.get(k) ?? -1) < n, `key ${k}: ${n} after ${lastPerKey.get(k)}`);
    lastPerKey.set(k, n);
  }
  const missing = Array.from({ length: total }, (_, n) => n).filter((n) => !seen.has(n));
  return { distinct: seen.size, duplicates, missing };
}
