/**
 * A directory of checkpoint generations (`checkpoint-000000000042.ckpt`). Each write goes to a
 * temp file, is fsynced, renamed into place and the directory fsynced, so a file either exists
 * whole or not at all; the previous generation is kept so that a torn or corrupt newest file
 * falls back to it with a warning.
 *
 * @module
 */
import { join } from "node:path";
import { EdgepipeError } from "../errors.ts";
import { type CheckpointData, decodeCheckpoint, encodeCheckpoint } from "./format.ts";
import { writeFileDurably } from "../durable_file.ts";

/** Checkpointing cannot go on: unwritable directory, or no valid checkpoint to restore. */
export class CheckpointError extends EdgepipeError {}

const NAME = /^checkpoint-(\d{12})\.ckpt$/;

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

  private constructor(dir: string, kind: string, warn: (message: string) => void) {
    this.dir = dir;
    this.kind = kind;
    this.#warn = warn;
  }

  /**
   * Opens (creating it if needed) a checkpoint directory and proves it writable.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { CheckpointStore } from "./store.ts";
   * const store = await CheckpointStore.open(await Deno.makeTempDir(), "demo");
   * await store.write({ json: { kind: "demo", n: 1 }, columns: [] });
   * assert.equal((await store.restore())?.json.n, 1);
   * ```
   */
  static async open(
    dir: string,
    kind: string,
    warn: (message: string) => void = (m) => console.error(m),
  ): Promise<CheckpointStore> {
    const probe = join(dir, `.probe-${Deno.pid}-${crypto.randomUUID()}`);
    try {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeFile(probe, new Uint8Array(1));
      await Deno.remove(probe);
      for await (const entry of Deno.readDir(dir)) {
        // Temp files of writes that a crash interrupted: never renamed, never valid.
        if (entry.name.startsWith(".checkpoint-") && entry.name.includes(".tmp-")) {
          await Deno.remove(join(dir, entry.name)).catch(() => {});
        }
      }
    } catch (cause) {
      throw new CheckpointError(
        `checkpoint directory ${dir} is not writable (${(cause as Error).message}); ` +
          `fix its permissions or choose another --checkpoint-dir`,
        { cause },
      );
    }
    return new CheckpointStore(dir, kind, warn);
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
   * Loads the newest valid checkpoint, or `undefined` when the directory holds none. A newer
   * file that is truncated, corrupt or foreign is skipped with a one-line warning; when files
   * exist but none is valid, throws {@linkcode CheckpointError} saying how to start over.
   * `accept` may reject a decoded checkpoint (e.g. one written with other settings) by throwing.
   */
  async restore(accept?: (data: CheckpointData) => void): Promise<Restored | undefined> {
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
        problems.push(`${path}: ${(cause as Error).message}`);
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
