/**
 * A directory of checkpoint generations (`checkpoint-000000000042.ckpt`). Each write goes to a
 * temp file, is fsynced, renamed into place and the directory fsynced, so a file either exists
 * whole or not at all. The previous generation is kept; a corrupt newest file is an error unless
 * the caller asks for the fallback to the previous one (which may have lost state since).
 *
 * One process at a time: the store holds an exclusive lock on `DIR/lock` (which names its pid)
 * until {@linkcode CheckpointStore.close} or the process ends. Files are 0600, a directory the
 * store creates 0700.
 *
 * @module
 */
import { join } from "node:path";
import { EdgepipeError } from "../errors.ts";
import { type CheckpointData, decodeCheckpoint, encodeCheckpoint } from "./format.ts";
import { writeFileDurably } from "../durable_file.ts";

/** Checkpointing cannot go on: unwritable directory, or no valid checkpoint to restore. */
export class CheckpointError extends EdgepipeError {}

/** How {@linkcode CheckpointStore.restore} treats an unusable newest generation. */
export interface RestoreOptions {
  /**
   * Restore the newest valid older generation instead of failing (with a warning). What the
   * newer one held beyond it is lost from the state.
   */
  fallback?: boolean;
}

const NAME = /^checkpoint-(\d{12})\.ckpt$/;
const LOCK = "lock";

function fileName(generation: number): string {
  return `checkpoint-${String(generation).padStart(12, "0")}.ckpt`;
}

/** A restored checkpoint. */
export interface Restored extends CheckpointData {
  /** The generation number of the checkpoint restored. */
  generation: number;
  /** The checkpoint file it came from. */
  path: string;
}

/** Generations of one stage's checkpoints in one directory. */
export class CheckpointStore {
  /** The directory holding the generations. */
  readonly dir: string;
  /** The kind of state stored (a checkpoint of another kind is refused). */
  readonly kind: string;
  #generation = 0;
  #warn: (message: string) => void;
  #lock: Deno.FsFile | undefined;

  private constructor(
    dir: string,
    kind: string,
    warn: (message: string) => void,
    lock: Deno.FsFile,
  ) {
    this.dir = dir;
    this.kind = kind;
    this.#warn = warn;
    this.#lock = lock;
  }

  /**
   * Opens (creating it, 0700, if needed) a checkpoint directory, proves it writable and locks it
   * against other processes: a second one gets a {@linkcode CheckpointError} naming the first.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { CheckpointStore } from "./store.ts";
   * const store = await CheckpointStore.open(await Deno.makeTempDir(), "demo");
   * await store.write({ json: { kind: "demo", n: 1 }, columns: [] });
   * assert.equal((await store.restore())?.json.n, 1);
   * store.close();
   * ```
   */
  static async open(
    dir: string,
    kind: string,
    warn: (message: string) => void = (m) => console.error(m),
  ): Promise<CheckpointStore> {
    const probe = join(dir, `.probe-${Deno.pid}-${crypto.randomUUID()}`);
    let lock: Deno.FsFile;
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      await Deno.writeFile(probe, new Uint8Array(1), { mode: 0o600 });
      await Deno.remove(probe);
      lock = await Deno.open(join(dir, LOCK), {
        read: true,
        write: true,
        create: true,
        mode: 0o600,
      });
    } catch (cause) {
      throw new CheckpointError(
        `checkpoint directory ${dir} is not writable (${(cause as Error).message}); ` +
          `fix its permissions or choose another --checkpoint-dir`,
        { cause },
      );
    }
    if (!(await lock.tryLock(true))) {
      lock.close();
      const holder = (await Deno.readTextFile(join(dir, LOCK)).catch(() => "")).trim();
      throw new CheckpointError(
        `checkpoint directory ${dir} is in use by another process` +
          `${holder === "" ? "" : ` (pid ${holder})`}; give each process its own --checkpoint-dir`,
      );
    }
    try {
      await lock.truncate(0);
      await lock.write(new TextEncoder().encode(`${Deno.pid}\n`));
      for await (const entry of Deno.readDir(dir)) {
        // Temp files of writes that a crash interrupted: never renamed, never valid.
        if (entry.name.startsWith(".checkpoint-") && entry.name.includes(".tmp-")) {
          await Deno.remove(join(dir, entry.name)).catch(() => {});
        }
      }
    } catch (cause) {
      lock.close();
      throw new CheckpointError(`checkpoint directory ${dir}: ${(cause as Error).message}`, {
        cause,
      });
    }
    return new CheckpointStore(dir, kind, warn, lock);
  }

  /** Releases the directory's lock (idempotent). */
  close(): void {
    this.#lock?.close();
    this.#lock = undefined;
  }

  async #generations(): Promise<number[]> {
    const found: number[] = [];
    for await (const entry of Deno.readDir(this.dir)) {
      const match = NAME.exec(entry.name);
      if (match && entry.isFile) found.push(Number(match[1]));
    }
    return found.sort((a, b) => b - a);
  }

  /**
   * Loads the newest checkpoint, or `undefined` when the directory holds none. A newest file that
   * is truncated, corrupt, foreign or rejected by `accept` (which throws, e.g. for one written
   * with other settings) is a {@linkcode CheckpointError}: the state it held may have been
   * acknowledged already, so an older generation is restored only with `fallback` (with a
   * one-line warning).
   */
  async restore(
    accept?: (data: CheckpointData) => void,
    options: RestoreOptions = {},
  ): Promise<Restored | undefined> {
    const generations = await this.#generations();
    const problems: string[] = [];
    for (const generation of generations) {
      const path = join(this.dir, fileName(generation));
      try {
        const data = decodeCheckpoint(await Deno.readFile(path), this.kind);
        accept?.(data);
        for (const problem of problems) {
          this.#warn(`edgepipe: warning: skipped checkpoint ${problem}; restored ${path}`);
        }
        this.#generation = generation;
        return { ...data, generation, path };
      } catch (cause) {
        if (!(cause instanceof EdgepipeError) && !(cause instanceof Deno.errors.NotFound)) {
          throw cause;
        }
        problems.push(`${path}: ${(cause as Error).message}`);
        if (!options.fallback) {
          throw new CheckpointError(
            `the newest checkpoint ${path} cannot be used (${(cause as Error).message}); an ` +
              `older one may lack state whose events were acknowledged already. Repair or ` +
              `restore that file, or accept the loss with --checkpoint-fallback, or move ` +
              `${this.dir} away to start from scratch`,
            { cause },
          );
        }
      }
    }
    if (problems.length > 0) {
      throw new CheckpointError(
        `no valid checkpoint in ${this.dir} (${problems.join("; ")}); ` +
          `to start from scratch, move that directory away (the state it held is lost)`,
      );
    }
    return undefined;
  }

  /**
   * Writes the next generation durably and removes generations older than the previous one.
   * Pass bytes from `encodeCheckpoint` to take the snapshot now and write it later: `data` may
   * share arrays with live state.
   */
  async write(data: CheckpointData | Uint8Array): Promise<number> {
    const generation = this.#generation + 1;
    const path = join(this.dir, fileName(generation));
    const bytes = data instanceof Uint8Array ? data : encodeCheckpoint(data);
    try {
      await writeFileDurably(path, bytes);
    } catch (cause) {
      throw new CheckpointError(`cannot write checkpoint ${path}`, { cause });
    }
    this.#generation = generation;
    for (const old of await this.#generations()) {
      if (old < generation - 1) await Deno.remove(join(this.dir, fileName(old))).catch(() => {});
    }
    return generation;
  }
}
