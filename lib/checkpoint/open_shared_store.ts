/**
 * `--checkpoint-store <where>`: a directory on a shared volume, or `s3://bucket/prefix` (the
 * endpoint, region and credentials as `sink s3` takes them: `S3_ENDPOINT` / `AWS_ENDPOINT_URL`,
 * `AWS_REGION`, `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` or a profile).
 *
 * @module
 */
import { type S3Connection, s3ConnectionFromEnv } from "../sinks/s3.ts";
import { parseS3Url, S3CheckpointStore } from "./s3_store.ts";
import { DirectoryCheckpointStore, type SharedCheckpointStore } from "./shared_store.ts";
import { CheckpointError } from "./store.ts";

/** Opens the shared checkpoint store that `spec` names. */
export async function openSharedStore(
  spec: string,
  connection: () => S3Connection = () => s3ConnectionFromEnv(),
): Promise<SharedCheckpointStore> {
  if (!spec.startsWith("s3://")) return await DirectoryCheckpointStore.open(spec);
  const url = parseS3Url(spec);
  if (url === undefined) {
    throw new CheckpointError(`--checkpoint-store ${spec}: expected s3://bucket/prefix`);
  }
  let resolved: S3Connection;
  try {
    resolved = connection();
  } catch (cause) {
    throw new CheckpointError(`checkpoint store ${spec}: ${(cause as Error).message}`, { cause });
  }
  return await S3CheckpointStore.open(url.bucket, url.prefix, resolved);
}
