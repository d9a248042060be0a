/**
 * `edgepipe sink file <dir>`: rolling files with the same names and encodings as the S3 sink. Each
 * file is written to a temporary name, fsynced, renamed into place and its directory fsynced before
 * the events in it count as delivered, so a crash leaves either the whole file or none of it.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import type { Encoding } from "./encode.ts";
import { EdgepipeError } from "../errors.ts";
import { writeFileDurably } from "../durable_file.ts";
import { type BatchingOptions, BatchingSink, type ObjectStore } from "./batching_sink.ts";

/** A file could not be written. */
export class FileSinkError extends EdgepipeError {}

/** Stores objects as files under a root directory. */
export class DirectoryStore implements ObjectStore {
  readonly description: string;
  readonly #root: string;
  readonly #knownDirs = new Set<string>();

  constructor(root: string) {
    this.#root = resolve(root);
    this.description = `file://${this.#root}`;
  }

  async put(key: string, bytes: Uint8Array, _encoding: Encoding): Promise<void> {
    const path = join(this.#root, key);
    const dir = dirname(path);
    try {
      if (!this.#knownDirs.has(dir)) {
        await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
        this.#knownDirs.add(dir);
      }
      await writeFileDurably(path, bytes);
    } catch (cause) {
      throw new FileSinkError(`writing ${path} failed`, { cause });
    }
  }
}

/**
 * Opens a file sink under `dir`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openFileSink } from "./file.ts";
 * import { PrefixTemplate } from "./object_naming.ts";
 * const dir = await Deno.makeTempDir();
 * const sink = openFileSink(dir, { prefix: new PrefixTemplate(""), encoding: "ndjson" });
 * const delivered = sink.send({ id: "a", value: 1 });
 * await sink.close();
 * await delivered;
 * assert.equal([...Deno.readDirSync(dir)].length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openFileSink(dir: string, options: BatchingOptions): BatchingSink {
  return new BatchingSink(new DirectoryStore(dir), options);
}
