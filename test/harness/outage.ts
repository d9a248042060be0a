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
import { startShellPipe } from "./shell_pipe.ts";

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

/** How {@linkcode runOutage} reaches the pipe and the uplink. */
export interface OutageOptions {
  /** `[consume mqtt://…, <terminal> --buffer-dir <bufferDir> …]`. */
  stages: string[][];
  env: Record<string, string>;
  bufferDir: string;
  devices: DevicePublisher;
  /** Events published before, during, and after the terminal's kill (all while down). */
  phases: [number, number, number];
  /** Seconds the uplink stays down beyond what the test needs. */
  outageSeconds: number;
  /** Events that reached the destination so far (distinct `n`). */
  arrivedCount: () => Promise<number>;
  killUplink: () => Promise<void>;
  restoreUplink: () => Promise<void>;
}

/** What {@linkcode runOutage} saw. */
export interface OutageRun {
  /** Buffer bytes before the outage and when the terminal was killed. */
  before: number;
  stored: number;
  /** The terminal's RSS (KiB), sampled while it buffered. */
  rss: number[];
  /** stderr of the terminal: the run killed during the outage, and the last run. */
  stderr: string;
  /** True when the restarted pipe was still running (waiting) when the uplink came back. */
  waitedForUplink: boolean;
}

/**
 * The outage, phase by phase: the pipe runs and its first events arrive; the uplink goes away;
 * more events are stored (the terminal's RSS sampled meanwhile); the terminal is killed with
 * kill -9 and the pipe started again with the uplink still down; more events; the uplink comes
 * back; everything arrives; the pipe is stopped with SIGTERM (exit codes 143 and 0 checked).
 */
export async function runOutage(o: OutageOptions): Promise<OutageRun> {
  const total = o.phases[0] + o.phases[1] + o.phases[2];
  let pipe = await startShellPipe(o.stages, { env: o.env });
  await o.devices.publish(o.phases[0]);
  await waitUntil(
    "the first events to arrive",
    60_000,
    async () => await o.arrivedCount() >= o.phases[0],
  );

  await o.killUplink();
  const before = await segmentBytes(o.bufferDir);
  const terminalPid = await pipe.pid(1);
  const rss: number[] = [await rssKiB(terminalPid)];
  const sampler = setInterval(async () => rss.push(await rssKiB(terminalPid)), 250);
  await o.devices.publish(o.phases[1]);
  const stored = await bufferSettled(o.bufferDir, before + 1);
  clearInterval(sampler);
  assert.ok(await pipe.signal(1, "SIGKILL"), "the terminal was running when killed");
  // consume sees the pipe break only at its next write: stop it (what the terminal never
  // reported stays unacknowledged at the MQTT broker).
  await pipe.signal(0, "SIGTERM");
  const killed = await pipe.done;
  assert.equal(killed.codes[1], 137);

  pipe = await startShellPipe(o.stages, { env: o.env }); // the uplink still down
  await o.devices.publish(o.phases[2]);
  await bufferSettled(o.bufferDir, stored + 1);
  await new Promise((r) => setTimeout(r, o.outageSeconds * 1000));
  const waitedForUplink = !pipe.finished;

  await o.restoreUplink();
  await waitUntil("every event to arrive", 180_000, async () => await o.arrivedCount() === total);
  await pipe.signal(0, "SIGTERM");
  const last = await pipe.done;
  assert.deepEqual(last.codes, [143, 0], last.stderr.join("\n"));
  return { before, stored, rss, stderr: killed.stderr[1] + last.stderr[1], waitedForUplink };
}

/** One line for the test's output; asserts nothing was missing and RSS stayed flat. */
export function checkOutage(run: OutageRun, audit: OutageAudit, arrived: number, total: number) {
  const growthMiB = (Math.max(...run.rss) - run.rss[0]) / 1024;
  console.log(
    `    ${total} events; ${arrived} arrived, ${audit.distinct} distinct, ${audit.duplicates} ` +
      `duplicates, ${audit.missing.length} missing; buffer ${run.stored} bytes at the kill; ` +
      `terminal RSS ${Math.round(run.rss[0] / 1024)} → max ${
        Math.round(Math.max(...run.rss) / 1024)
      } ` +
      `MiB (${run.rss.length} samples while buffering)`,
  );
  assert.deepEqual(audit.missing, []);
  assert.ok(run.stored > run.before, "the outage's events went to the buffer");
  assert.ok(growthMiB < 64, `the terminal's RSS grew ${growthMiB.toFixed(1)} MiB while buffering`);
  assert.ok(run.waitedForUplink, "the restarted terminal waits for the uplink instead of failing");
  assert.match(run.stderr, /destination unreachable|not delivered|forwarding them first/);
}
