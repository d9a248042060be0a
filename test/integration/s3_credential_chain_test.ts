/**
 * `sink s3` credentials from the AWS SDK's default chain against MinIO, checked with boto3: a
 * named profile of a shared credentials file (by --profile and by AWS_PROFILE, beating wrong keys
 * in the environment), static keys with a file: secret (warned about when literal), and no
 * credentials at all (one clear line, exit 1). Instance metadata is disabled: nothing leaves the
 * loopback.
 */
import assert from "node:assert/strict";
import { createBucket, inspectObjects, s3Server } from "../harness/minio.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";

const server = await s3Server();

Deno.test({
  name: "sink s3: shared credentials file profiles, file: secrets, missing credentials",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir();
    const bucket = `creds-${crypto.randomUUID().slice(0, 8)}`;
    await createBucket(server, bucket);
    const credentials = `${dir}/credentials`;
    await Deno.writeTextFile(
      credentials,
      [
        "[default]",
        "aws_access_key_id = wrong-default-key",
        "aws_secret_access_key = wrong-default-secret",
        "",
        "[edgepipe-test]",
        `aws_access_key_id = ${server.accessKeyId}`,
        `aws_secret_access_key = ${server.secretAccessKey}`,
        "",
      ].join("\n"),
    );
    await Deno.writeTextFile(`${dir}/config`, "");
    const baseEnv = {
      S3_ENDPOINT: server.endpoint,
      AWS_ENDPOINT_URL: server.endpoint,
      AWS_REGION: server.region,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: `${dir}/config`,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_PROFILE: "",
    };
    const events = (tag: string) =>
      Array.from(
        { length: 5 },
        (_, i) => JSON.stringify({ id: `${tag}-${i}`, value: { tag, n: i } }) + "\n",
      ).join("");
    const sink = (prefix: string, flags: string[], env: Record<string, string>, tag: string) =>
      runEdgepipe(
        [
          "sink",
          "s3",
          "--bucket",
          bucket,
          "--prefix",
          `${prefix}/`,
          "--payload",
          "value",
          ...flags,
        ],
        { env: { ...baseEnv, ...env }, stdin: events(tag) },
      );
    const stored = async (prefix: string) => {
      const objects = await inspectObjects(server, bucket, `${prefix}/`, true);
      return objects.flatMap((o) => o.lines ?? []);
    };
    const expected = (tag: string) => Array.from({ length: 5 }, (_, i) => ({ tag, n: i }));
    try {
      await t.step(
        "--profile picks the profile's keys from the shared credentials file",
        async () => {
          const run = await sink("flag", ["--profile", "edgepipe-test"], {}, "flag");
          assert.equal(run.code, 0, run.stderr);
          assert.deepEqual(await stored("flag"), expected("flag"));
        },
      );

      await t.step("AWS_PROFILE beats wrong keys in the environment", async () => {
        const run = await sink("env", [], {
          AWS_PROFILE: "edgepipe-test",
          AWS_ACCESS_KEY_ID: "wrong-env-key",
          AWS_SECRET_ACCESS_KEY: "wrong-env-secret",
        }, "env");
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(await stored("env"), expected("env"));
      });

      await t.step(
        "static keys: file: secret works silently; a literal one is warned about",
        async () => {
          await Deno.writeTextFile(`${dir}/secret`, server.secretAccessKey + "\n");
          const quiet = await sink(
            "file",
            [
              "--access-key-id",
              server.accessKeyId,
              "--secret-access-key",
              `file:${dir}/secret`,
            ],
            {},
            "file",
          );
          assert.equal(quiet.code, 0, quiet.stderr);
          assert.doesNotMatch(quiet.stderr, /secret-access-key is visible/);
          assert.deepEqual(await stored("file"), expected("file"));
          const loud = await sink(
            "literal",
            [
              "--access-key-id",
              server.accessKeyId,
              "--secret-access-key",
              server.secretAccessKey,
            ],
            {},
            "literal",
          );
          assert.equal(loud.code, 0, loud.stderr);
          assert.match(loud.stderr, /--secret-access-key is visible in the process list/);
          assert.ok(!loud.stderr.includes(server.secretAccessKey), "the secret is not echoed");
          assert.deepEqual(await stored("literal"), expected("literal"));
        },
      );

      await t.step("no credentials anywhere: one line, exit 1", async () => {
        const run = await sink("none", ["--profile", "no-such-profile"], {}, "none");
        const stderr = run.stderr.trim();
        assert.equal(run.code, 1, stderr);
        assert.equal(stderr.split("\n").length, 1, stderr);
        assert.match(stderr, /no S3 credentials found/);
        assert.deepEqual(await stored("none"), []);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
