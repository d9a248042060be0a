/**
 * `--checkpoint-store <where>`: a directory on a shared volume, or `s3://bucket/prefix`.
 *
 * @module
 */
import { DirectoryCheckpointStore, type SharedCheckpointStore } from "./shared_store.ts";

/** Opens the shared checkpoint store that `spec` names. */
export async function openSharedStore(spec: string): Promise<SharedCheckpointStore> {
  return await DirectoryCheckpointStore.open(spec);
}
