/**
 * Checkpoints kept per source partition on storage that several instances share (a directory on
 * a shared volume, or S3), so that a partition's state follows the partition when a Failover
 * subscription hands it to another instance (`window --checkpoint-store`, docs/scaling.md).
 *
 * Each partition has numbered generations; a generation is written once and never replaced: a
 * put of a generation that exists already fails with `"fenced"`. That is the fencing: an owner
 * that restored generation g claims g + 1 before it absorbs anything, so an old owner that has
 * not heard yet that the partition moved finds its next generation taken, and stops.
 *
 * Directory layout: `DIR/<topic, URI-encoded>/<partition>/checkpoint-<generation>.ckpt`.
 *
 * @module
 */
import { join } from "node:path";
import { CheckpointError } from "./store.ts";
import { writeNewFileSynced } from "../durable_file.ts";

/** The newest generation of a partition. */
export interface StoredGeneration {
  /** Its number. */
  generation: number;
  /** The checkpoint, as written. */
  bytes: Uint8Array;
}

/** Where the partitions' checkpoints live; see the module documentation. */
export interface SharedCheckpointStore {
  /** The store, for messages (`DIR` or `s3://bucket/prefix`). */
  readonly where: string;
  /** The newest generation of `partition`, or undefined when there is none. */
  newest(partition: PartitionKey): Promise<StoredGeneration | undefined>;
  /**
   * Writes `generation` of `partition` durably, unless it exists already (`"fenced"`: another
   * instance owns the partition now). Older generations but the previous one may be removed.
   */
  put(
    partition: PartitionKey,
    generation: number,
    bytes: Uint8Array,
  ): Promise<"written" | "fenced">;
  /** Releases what the store holds (idempotent). */
  close(): void;
}

/** A source partition as the store names it. */
export interface PartitionKey {
  /** The topic, without a `-partition-N` suffix ("" for events without one). */
  topic: string;
  /** The partition index (-1: not partitioned). */
  partition: number;
}

const NAME = /^checkpoint-(\d{12})\.ckpt$/;

/** The file (or object) name of a generation. */
export function generationName(generation: number): string {
  return `checkpoint-${String(generation).padStart(12, "0")}.ckpt`;
}

/** The generation a name stands for, or undefined for another name. */
export function generationOf(name: string): number | undefined {
  const match = NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The path of a partition under the store's root, with `/` separators. */
export function partitionPath(key: PartitionKey): string {
  return `${encodeURIComponent(key.topic)}/${key.partition}`;
}

/**
 * A shared checkpoint store in a directory (a volume every instance mounts). A generation is
 * written to a temp file, fsynced and hard-linked to its name, which fails if the name exists:
 * the put is atomic and exclusive on any POSIX file system that supports hard links (NFS does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DirectoryCheckpointStore } from "./shared_store.ts";
 * const store = await DirectoryCheckpointStore.open(await Deno.makeTempDir());
 * const p = { topic: "persistent://public/default/t", partition: 2 };
 * assert.equal(await store.put(p, 1, new Uint8Array([1])), "written");
 * assert.equal(await store.put(p, 1, new Uint8Array([2])), "fenced");
 * assert.deepEqual((await store.newest(p))?.bytes, new Uint8Array([1]));
 * ```
 */
export class DirectoryCheckpointStore implements SharedCheckpointStore {
  readonly where: string;

  private constructor(dir: string) {
    this.where = dir;
  }

  /** Opens (creating it, 0700) the directory and proves it writable. */
  static async open(dir: string): Promise<DirectoryCheckpointStore> {
    const probe = join(dir, `.probe-${Deno.pid}-${crypto.randomUUID()}`);
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      await Deno.writeFile(probe, new Uint8Array(1), { mode: 0o600 });
      await Deno.remove(probe);
    } catch (cause) {
      throw new CheckpointError(
        `checkpoint store ${dir} is not writable (${(cause as Error).message}); fix its ` +
          `permissions or choose another --checkpoint-store`,
        { cause },
      );
    }
    return new DirectoryCheckpointStore(dir);
  }

  async #generations(dir: string): Promise<number[]> {
    const found: number[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) {
        const generation = generationOf(entry.name);
        if (generation !== undefined && entry.isFile) found.push(generation);
      }
    } catch (cause) {
      if (cause instanceof Deno.errors.NotFound) return [];
      throw new CheckpointError(`cannot list ${dir}`, { cause });
    }
    return found.sort((a, b) => b - a);
  }

  async newest(key: PartitionKey): Promise<StoredGeneration | undefined> {
    const dir = join(this.where, partitionPath(key));
    const [generation] = await this.#generations(dir);
    if (generation === undefined) return undefined;
    const path = join(dir, generationName(generation));
    try {
      return { generation, bytes: await Deno.readFile(path) };
    } catch (cause) {
      throw new CheckpointError(`cannot read checkpoint ${path}`, { cause });
    }
  }

  async put(
    key: PartitionKey,
    generation: number,
    bytes: Uint8Array,
  ): Promise<"written" | "fenced"> {
    const dir = join(this.where, partitionPath(key));
    const path = join(dir, generationName(generation));
    const temp = join(dir, `.${generationName(generation)}.tmp-${Deno.pid}-${crypto.randomUUID()}`);
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      await writeNewFileSynced(temp, bytes);
      try {
        await Deno.link(temp, path);
      } catch (cause) {
        if (cause instanceof Deno.errors.AlreadyExists) return "fenced";
        throw cause;
      } finally {
        await Deno.remove(temp).catch(() => {});
      }
      const handle = await Deno.open(dir, { read: true });
      try {
        await handle.sync();
      } finally {
        handle.close();
      }
    } catch (cause) {
      throw new CheckpointError(`cannot write checkpoint ${path}`, { cause });
    }
    for (const old of await this.#generations(dir)) {
      if (old < generation - 1) await Deno.remove(join(dir, generationName(old))).catch(() => {});
    }
    return "written";
  }

  close(): void {}
}
