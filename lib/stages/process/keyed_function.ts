/**
 * `process`: a keyed function in TypeScript as a stage — the user module's `onEvent` and
 * `onTimer` with keyed state and event-time and processing-time timers, in a Worker that has only
 * the permissions given, called synchronously over shared memory (`sync_channel.ts`). Runs in the
 * shell of every stateful stage (checkpoints, acknowledgements, the ack relay).
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { CheckpointData } from "../../checkpoint/format.ts";
import type { CheckpointStore, Restored, RestoreOptions } from "../../checkpoint/store.ts";
import { ackRecord, type Envelope, type Item } from "../../envelope.ts";
import { EdgepipeError, UsageError } from "../../errors.ts";
import type { Stage } from "../types.ts";
import { progressOf } from "../keyed/progress.ts";
import { statefulStage } from "../keyed/stateful_stage.ts";
import { openStageCheckpoints, type StatefulStageOptions } from "../keyed/stateful_options.ts";
import type { StatefulOperator } from "../keyed/stateful_stage.ts";
import { eventTimeReader, keyReader } from "../window/event_fields.ts";
import { channelBuffers, ChannelCaller } from "./sync_channel.ts";

/** The checkpoint kind of process stages. */
export const PROCESS_KIND = "edgepipe.process";

/** What the user module may do beyond reading itself (Deno's permission names). */
export interface ModulePermissions {
  /** Paths it may read (the module file itself always). */
  read?: string[];
  /** Paths it may write. */
  write?: string[];
  /** Hosts (`host:port`) it may reach. */
  net?: string[];
  /** Environment variables it may read. */
  env?: string[];
}

/** Options of {@linkcode processStage}. */
export interface ProcessOptions extends Omit<StatefulStageOptions, "name"> {
  /** Path (or file URL) of the module whose default export is a `KeyedFunction`. */
  module: string;
  /** Dotted path (falls back to `value.<path>`) or CEL expression giving the key. */
  key: string;
  /** Event-time field (default `eventTime`, falling back to `publishTime`). */
  time?: string;
  /** How far (ms) events may arrive out of order before the watermark passes them. */
  outOfOrderness?: number;
  /** Extra permissions of the module's Worker (default none). */
  permissions?: ModulePermissions;
  /** Longest a call into the module may take (default 60 s). */
  callTimeoutMs?: number;
}

/** Events sent to the Worker in one call: the call's cost is paid once per batch. */
const BATCH = 256;

/** The user module failed: it threw, or it could not be loaded. */
export class KeyedFunctionError extends EdgepipeError {}

/** The settings that a checkpoint must have been written with to be restored. */
export function processConfig(options: ProcessOptions): string {
  return JSON.stringify({
    module: moduleUrl(options.module),
    key: options.key,
    time: options.time ?? "eventTime",
    outOfOrderness: options.outOfOrderness ?? 0,
  });
}

function moduleUrl(module: string): string {
  if (/^(file|https?):/.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

interface Answer {
  out: Envelope[];
  empty: string[];
  nextProc: number | null;
}

/** A started Worker with the module loaded. */
interface Loaded {
  worker: Worker;
  caller: ChannelCaller;
}

async function load(options: ProcessOptions): Promise<Loaded> {
  const url = moduleUrl(options.module);
  const path = url.startsWith("file:") ? decodeURIComponent(new URL(url).pathname) : undefined;
  const p = options.permissions ?? {};
  const permissions = {
    read: [...(path ? [path] : []), ...(p.read ?? [])],
    write: p.write ?? false,
    net: p.net ?? false,
    env: p.env ?? false,
    run: false,
    ffi: false,
    sys: false,
    import: url.startsWith("http") ? [new URL(url).host] : false,
  };
  let worker: Worker;
  try {
    worker = new Worker(new URL("./process_worker.ts", import.meta.url).href, {
      type: "module",
      deno: { permissions },
    } as WorkerOptions);
  } catch (cause) {
    throw new UsageError(
      "process: the module's sandbox needs Deno's --unstable-worker-options (deno.json sets it " +
        "for the project; add the flag when running edgepipe from elsewhere)",
      { cause },
    );
  }
  const buffers = channelBuffers();
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ready?: true; loadError?: string }>) => {
      if (e.data.ready) resolve();
      else reject(new UsageError(`process: cannot load ${options.module}: ${e.data.loadError}`));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new UsageError(`process: cannot load ${options.module}: ${e.message}`));
    };
  });
  worker.postMessage({
    module: url,
    buffers,
    outOfOrderness: options.outOfOrderness ?? 0,
  });
  try {
    await ready;
  } catch (error) {
    worker.terminate();
    throw error;
  }
  return { worker, caller: new ChannelCaller(buffers, options.callTimeoutMs) };
}

/**
 * A keyed-function stage: the module's `onEvent(event, ctx)` per event and `onTimer(time, ctx)`
 * per due timer, with `ctx.state`, `ctx.timers` and `ctx.emit` (see `types.ts`).
 */
export function processStage(options: ProcessOptions): Stage {
  const config = processConfig(options);
  return async function* (input: AsyncIterable<Item>): AsyncGenerator<Item> {
    const loaded = await load(options);
    try {
      yield* statefulStage(
        (trackIds) => new KeyedFunctionOperator(loaded.caller, options, config, trackIds),
        {
          ...options,
          name: "process",
          resultIdPrefix: "f",
          lateMeaning: "older than the watermark",
        },
      )(input);
    } finally {
      loaded.worker.terminate();
    }
  };
}

/** The operator: the Worker holds the state; this side keeps the watermark and the acks. */
class KeyedFunctionOperator implements StatefulOperator {
  out: Item[] = [];
  watermark = -Infinity;
  #maxTime = -Infinity;
  #nextProc: number | null = null;
  readonly #caller: ChannelCaller;
  readonly #keyOf: (event: Envelope) => string;
  readonly #timeOf: (event: Envelope) => number;
  readonly #ooo: number;
  readonly #config: string;
  /** Without checkpoints: ids per key, acknowledged once the key holds nothing. */
  readonly #pending: Map<string, string[]> | undefined;
  /** Events taken but not yet sent to the Worker (one call per batch). */
  #batch: { event: Envelope; key: string; time: number }[] = [];

  constructor(caller: ChannelCaller, o: ProcessOptions, config: string, trackIds: boolean) {
    this.#caller = caller;
    this.#keyOf = keyReader(o.key);
    this.#timeOf = eventTimeReader(o.time);
    this.#ooo = o.outOfOrderness ?? 0;
    this.#config = config;
    this.#pending = trackIds ? new Map() : undefined;
  }

  #call(request: Record<string, unknown>): Answer {
    const answer = this.#caller.call(request) as { ok?: Answer; error?: string };
    if (answer.error !== undefined) {
      throw new KeyedFunctionError(`process: the module failed: ${answer.error}`);
    }
    return answer.ok!;
  }

  #take(answer: Answer): void {
    for (const record of answer.out) this.out.push(record);
    this.#nextProc = answer.nextProc;
    const pending = this.#pending;
    if (pending === undefined) return;
    const ids: string[] = [];
    for (const key of answer.empty) {
      const list = pending.get(key);
      if (list) ids.push(...list);
      pending.delete(key);
    }
    if (ids.length > 0) this.out.push(ackRecord(ids));
  }

  process(event: Envelope): "absorbed" | "late" {
    const key = this.#keyOf(event);
    const time = this.#timeOf(event);
    if (time < this.watermark) return "late";
    if (this.#nextProc !== null && Date.now() >= this.#nextProc) this.tick();
    if (this.#pending !== undefined && typeof event.id === "string") {
      const list = this.#pending.get(key);
      if (list) list.push(event.id);
      else this.#pending.set(key, [event.id]);
    }
    if (time > this.#maxTime) {
      this.#maxTime = time;
      this.watermark = Math.max(this.watermark, time - this.#ooo);
    }
    this.#batch.push({ event, key, time });
    if (this.#batch.length >= BATCH) this.flush();
    return "absorbed";
  }

  /** Sends the batched events to the Worker; their results land in `out`. */
  flush(): void {
    if (this.#batch.length === 0) return;
    const items = this.#batch;
    this.#batch = [];
    this.#take(this.#call({ op: "batch", items }));
  }

  /** Handles the batch, then fires the processing-time timers that are due. */
  tick(): void {
    this.flush();
    if (this.#nextProc !== null && Date.now() >= this.#nextProc) {
      this.#take(this.#call({ op: "tick", now: Date.now() }));
    }
  }

  wantsTick(): boolean {
    return this.#nextProc !== null || this.#batch.length > 0;
  }

  flushAll(): void {
    this.flush();
    this.#take(this.#call({ op: "end" }));
    if (this.#pending !== undefined) {
      const ids = [...this.#pending.values()].flat();
      this.#pending.clear();
      if (ids.length > 0) this.out.push(ackRecord(ids));
    }
  }

  snapshot(progress: ReturnType<typeof progressOf>): CheckpointData {
    this.flush();
    const state = (this.#caller.call({ op: "snapshot" }) as { ok: unknown }).ok;
    return { json: { kind: PROCESS_KIND, config: this.#config, ...progress, state }, columns: [] };
  }

  restore(data: CheckpointData): ReturnType<typeof progressOf> {
    const state = data.json.state as { watermark: number | null; maxTime: number | null };
    const answer = this.#caller.call({ op: "restore", state }) as { error?: string };
    if (answer.error !== undefined) {
      throw new KeyedFunctionError(`process: restoring the state failed: ${answer.error}`);
    }
    this.watermark = state.watermark ?? -Infinity;
    this.#maxTime = state.maxTime ?? -Infinity;
    return progressOf(data.json);
  }
}

/** Opens (and locks) a process stage's checkpoint directory; see `openWindowCheckpoints`. */
export function openProcessCheckpoints(
  dir: string,
  options: ProcessOptions,
  warn?: (message: string) => void,
  restore: RestoreOptions = {},
): Promise<{ store: CheckpointStore; restored?: Restored; outputPosition: number }> {
  return openStageCheckpoints(dir, PROCESS_KIND, processConfig(options), warn, restore, "process");
}
