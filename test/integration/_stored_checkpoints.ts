/**
 * What a shared checkpoint store holds, read without edgepipe's store code: on S3 with boto3
 * (`inspectCheckpoints`, which also gives the writer named in each object's metadata), in a
 * directory with plain file reads; the JSON section of each checkpoint is read by the layout
 * `lib/checkpoint/format.ts` documents (JSON length at offset 16, JSON from offset 24).
 *
 * @module
 */
import { join } from "node:path";
import { inspectCheckpoints, type S3Server } from "../harness/minio.ts";

/** The newest generation of one partition. */
export interface StoredNewest {
  generation: number;
  /** `host/pid` of the writing process (S3 only). */
  writer?: string;
  /** Windows the checkpoint holds. */
  windows: number;
}

/** Where the checkpoints are. */
export type StoreUnderTest =
  | { kind: "s3"; server: S3Server; bucket: string; prefix: string }
  | { kind: "directory"; dir: string };

const NAME = /^checkpoint-(\d{12})\.ckpt$/;

/** Partition → its newest generation, for the partitions of `topic`. */
export async function storedNewest(
  store: StoreUnderTest,
  topic: string,
): Promise<Map<number, StoredNewest>> {
  const found: { partition: number; generation: number; entry: StoredNewest }[] = [];
  const base = `${encodeURIComponent(topic)}/`;
  if (store.kind === "s3") {
    const prefix = `${store.prefix}${base}`;
    for (const object of await inspectCheckpoints(store.server, store.bucket, prefix)) {
      const [partition, name] = object.key.slice(prefix.length).split("/");
      const match = NAME.exec(name);
      if (!match) continue;
      found.push({
        partition: Number(partition),
        generation: Number(match[1]),
        entry: {
          generation: Number(match[1]),
          writer: object.metadata.writer,
          windows: Number(object.json.windows),
        },
      });
    }
  } else {
    const root = join(store.dir, base);
    for (const dir of await entries(root)) {
      for (const file of await entries(join(root, dir.name))) {
        const match = NAME.exec(file.name);
        if (!match) continue;
        const bytes = await Deno.readFile(join(root, dir.name, file.name)).catch(() => undefined);
        if (bytes === undefined) continue; // pruned since the listing
        const length = new DataView(bytes.buffer).getUint32(16, true);
        const json = JSON.parse(new TextDecoder().decode(bytes.subarray(24, 24 + length)));
        found.push({
          partition: Number(dir.name),
          generation: Number(match[1]),
          entry: { generation: Number(match[1]), windows: Number(json.windows) },
        });
      }
    }
  }
  const newest = new Map<number, StoredNewest>();
  for (const { partition, generation, entry } of found) {
    if ((newest.get(partition)?.generation ?? -1) < generation) newest.set(partition, entry);
  }
  return newest;
}

async function entries(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}
