import assert from "node:assert/strict";
import { hostname } from "node:os";
import {
  createBucket,
  objectHeads,
  putObject,
  type S3Server,
  s3Server,
} from "../../test/harness/minio.ts";
import { encodeCheckpoint } from "./format.ts";
import { openSharedStore } from "./open_shared_store.ts";
import { S3CheckpointStore } from "./s3_store.ts";
import {
  DirectoryCheckpointStore,
  generationName,
  type SharedCheckpointStore,
} from "./shared_store.ts";
import { CheckpointError } from "./store.ts";
import { s3ConnectionFromEnv } from "../sinks/s3.ts";
import { PartitionStates } from "../stages/window/partition_states.ts";
import type { WindowOperator } from "../stages/window/operator.ts";

const P = { topic: "persistent://public/default/flights", partition: 3 };
/** The partition's objects under a prefix, as S3 names them (the topic URI-encoded). */
const DIR = `${encodeURIComponent(P.topic)}/3/`;

const opts = { sanitizeOps: false, sanitizeResources: false };

async function fresh(): Promise<{ server: S3Server; bucket: string; connection: object }> {
  const server = await s3Server();
  const bucket = `ckpt-${crypto.randomUUID().slice(0, 8)}`;
  await createBucket(server, bucket);
  return { server, bucket, connection: connectionOf(server) };
}

function connectionOf(server: S3Server) {
  return {
    endpoint: server.endpoint,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
  };
}

/** The generations boto3 lists for the partition, ascending. */
async function listed(server: S3Server, bucket: string, prefix: string): Promise<string[]> {
  const heads = await objectHeads(server, bucket, `${prefix}${DIR}`);
  return heads.map((h) => h.key.slice(prefix.length + DIR.length)).sort();
}

Deno.test({
  name: "s3 store: a generation is written once; the second writer is fenced; old ones pruned",
  ...opts,
  async fn() {
    const { server, bucket, connection } = await fresh();
    const a = await S3CheckpointStore.open(bucket, "state/hourly", connection);
    const b = await S3CheckpointStore.open(bucket, "state/hourly/", connection);
    try {
      assert.equal(a.where, `s3://${bucket}/state/hourly/`);
      assert.equal(await a.newest(P), undefined);
      assert.equal(await a.put(P, 1, new Uint8Array([1])), "written");
      assert.equal(await b.put(P, 1, new Uint8Array([9])), "fenced");
      assert.equal(await b.put(P, 2, new Uint8Array([2])), "written");
      assert.equal(await a.put(P, 2, new Uint8Array([8])), "fenced");
      assert.deepEqual(await a.newest(P), { generation: 2, bytes: new Uint8Array([2]) });
      for (let g = 3; g <= 6; g++) assert.equal(await b.put(P, g, new Uint8Array([g])), "written");
      // boto3 sees the newest two generations only, and who wrote them; no probe object left.
      assert.deepEqual(await listed(server, bucket, "state/hourly/"), [
        generationName(5),
        generationName(6),
      ]);
      const heads = await objectHeads(server, bucket, "");
      assert.equal(heads.length, 2, JSON.stringify(heads));
      assert.equal(heads[0].metadata.writer, `${hostname()}/${Deno.pid}`);
      assert.deepEqual(await a.newest(P), { generation: 6, bytes: new Uint8Array([6]) });
      // Another partition of the same topic is apart.
      assert.equal(await a.newest({ ...P, partition: 4 }), undefined);
    } finally {
      a.close();
      b.close();
    }
  },
});

Deno.test({
  name: "s3 store: racing writers of one generation, exactly one wins",
  ...opts,
  async fn() {
    const { server, bucket, connection } = await fresh();
    const stores = await Promise.all(
      [1, 2, 3, 4].map(() => S3CheckpointStore.open(bucket, "", connection)),
    );
    try {
      await stores[0].put(P, 6, new Uint8Array([0xff]));
      const outcomes = await Promise.all(stores.map((s, i) => s.put(P, 7, new Uint8Array([i]))));
      assert.equal(outcomes.filter((o) => o === "written").length, 1, outcomes.join());
      const winner = outcomes.indexOf("written");
      assert.deepEqual(await stores[1].newest(P), {
        generation: 7,
        bytes: new Uint8Array([winner]),
      });
      const heads = await objectHeads(server, bucket, `${DIR}${generationName(7)}`);
      assert.equal(heads.length, 1);
      assert.equal(heads[0].size, 1);
    } finally {
      for (const s of stores) s.close();
    }
  },
});

Deno.test({
  name:
    "s3 store: newest takes the highest generation and removes leftovers beyond the previous one",
  ...opts,
  async fn() {
    const { server, bucket, connection } = await fresh();
    // An owner that died between puts and prunes left four generations (written with boto3).
    for (const g of [1, 2, 3, 4]) {
      await putObject(server, bucket, `p/${DIR}${generationName(g)}`, new Uint8Array([g, g]));
    }
    await putObject(server, bucket, `p/${DIR}unrelated.txt`, new Uint8Array([0]));
    const store = await S3CheckpointStore.open(bucket, "p", connection);
    try {
      assert.deepEqual(await store.newest(P), { generation: 4, bytes: new Uint8Array([4, 4]) });
      assert.deepEqual(await listed(server, bucket, "p/"), [
        generationName(3),
        generationName(4),
        "unrelated.txt",
      ]);
    } finally {
      store.close();
    }
  },
});

/** Never used: a corrupt checkpoint is refused before anything is restored into it. */
const makeOp = () => ({}) as WindowOperator;

for (const kind of ["directory", "s3"] as const) {
  Deno.test({
    name: `${kind} store: a corrupt newest generation stops the takeover, naming it`,
    ...opts,
    async fn() {
      let store: SharedCheckpointStore;
      let corrupt: (g: number, bytes: Uint8Array) => Promise<void>;
      if (kind === "s3") {
        const { server, bucket, connection } = await fresh();
        store = await S3CheckpointStore.open(bucket, "c", connection);
        corrupt = (g, bytes) => putObject(server, bucket, `c/${DIR}${generationName(g)}`, bytes);
      } else {
        const dir = await Deno.makeTempDir();
        store = await DirectoryCheckpointStore.open(dir);
        corrupt = async (g, bytes) => {
          await Deno.mkdir(`${dir}/${DIR}`, { recursive: true });
          await Deno.writeFile(`${dir}/${DIR}${generationName(g)}`, bytes);
        };
      }
      const states = new PartitionStates(store, "cfg", makeOp);
      try {
        const good = encodeCheckpoint({ json: { kind: "other" }, columns: [] });
        assert.equal(await store.put(P, 1, good), "written");
        // Generation 2: a good checkpoint with one byte flipped in its JSON (the CRC32 fails).
        const bad = encodeCheckpoint({ json: { kind: "window", pad: "abcdefgh" }, columns: [] });
        bad[bad.length - 3] ^= 0x01;
        await corrupt(2, bad);
        await assert.rejects(
          () => states.adopt(P),
          (err: Error) => {
            assert.ok(err instanceof CheckpointError, String(err));
            assert.match(err.message, /generation 2 in /);
            assert.match(err.message, /checksum mismatch/);
            assert.equal(err.message.includes("\n"), false);
            return true;
          },
        );
        // Nothing was claimed past it: generation 3 is free.
        assert.equal((await store.newest(P))?.generation, 2);
      } finally {
        states.close();
      }
    },
  });
}

Deno.test({
  name: "s3 store: a missing bucket, refused keys and a bad URL are one clear line each",
  ...opts,
  async fn() {
    const server = await s3Server();
    const fast = { maxAttempts: 1 };
    await assert.rejects(
      () => S3CheckpointStore.open("no-such-bucket-ckpt", "x", connectionOf(server), fast),
      (err: Error) => {
        assert.ok(err instanceof CheckpointError);
        assert.match(
          err.message,
          /^checkpoint store s3:\/\/no-such-bucket-ckpt\/x\/: .*does not exist/,
        );
        assert.equal(err.message.includes("\n"), false);
        return true;
      },
    );
    const { bucket } = await fresh();
    const wrong = { ...connectionOf(server), secretAccessKey: "not-the-secret" };
    await assert.rejects(
      () => S3CheckpointStore.open(bucket, "x", wrong, fast),
      (err: Error) => {
        assert.ok(err instanceof CheckpointError);
        assert.match(err.message, /denied|rejected/);
        assert.equal(err.message.includes("not-the-secret"), false, "the secret is never printed");
        return true;
      },
    );
    await assert.rejects(() => openSharedStore("s3://"), /expected s3:\/\/bucket\/prefix/);
    await assert.rejects(
      () =>
        openSharedStore(
          "s3://b/p",
          () => s3ConnectionFromEnv({ accessKeyId: "k" }, () => undefined),
        ),
      /checkpoint store s3:\/\/b\/p: S3 credentials incomplete/,
    );
    // openSharedStore reads the connection from the environment, as sink s3 does.
    const opened = await openSharedStore(`s3://${bucket}/via-env`, () => connectionOf(server));
    try {
      assert.ok(opened instanceof S3CheckpointStore);
      assert.equal(await opened.put(P, 1, new Uint8Array([5])), "written");
      assert.deepEqual(await listed(server, bucket, "via-env/"), [generationName(1)]);
    } finally {
      opened.close();
    }
  },
});
