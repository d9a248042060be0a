/**
 * Writes a file so that a crash leaves either all of it or none: the bytes go to a temporary
 * name, are fsynced, renamed into place, and the directory is fsynced so the rename itself lasts.
 * The file is readable and writable by its owner only (0600): it holds the user's data.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/**
 * Replaces `path` with `bytes` atomically and durably. Errors are the file system's own; callers
 * wrap them in their typed error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileDurably } from "./durable_file.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileDurably(`${dir}/state.bin`, new Uint8Array([1, 2, 3]));
 * assert.equal((await Deno.readFile(`${dir}/state.bin`)).length, 3);
 * assert.equal((await Deno.stat(`${dir}/state.bin`)).mode! & 0o777, 0o600);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileDurably(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  // The process id keeps two writers of the same name (a restart racing a dying process) apart.
  const temp = join(dir, `.${basename(path)}.tmp-${Deno.pid}`);
  // A temp file left by an earlier process of the same pid may have other modes: start afresh.
  await Deno.remove(temp).catch(() => {});
  await writeNewFileSynced(temp, bytes);
  await Deno.rename(temp, path);
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/** Creates `path` (0600; it must not exist), writes all of `bytes` and fsyncs it. */
export async function writeNewFileSynced(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    let offset = 0;
    while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
    await file.sync();
  } finally {
    file.close();
  }
}
