import assert from "node:assert/strict";
import { s3ConnectionFromEnv, S3SinkError } from "./s3.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("s3 connection: env keys without a profile; a profile drops env keys; explicit keys win", () => {
  const env = { AWS_ACCESS_KEY_ID: "ek", AWS_SECRET_ACCESS_KEY: "es", AWS_SESSION_TOKEN: "et" };
  const plain = s3ConnectionFromEnv({}, envOf(env));
  assert.equal(plain.accessKeyId, "ek");
  assert.equal(plain.sessionToken, "et");
  assert.equal(plain.profile, undefined);
  const profiled = s3ConnectionFromEnv({}, envOf({ ...env, AWS_PROFILE: "team" }));
  assert.equal(profiled.profile, "team");
  assert.equal(profiled.accessKeyId, undefined, "the default chain resolves the profile");
  assert.equal(profiled.sessionToken, undefined);
  const explicit = s3ConnectionFromEnv(
    { profile: "team", accessKeyId: "fk", secretAccessKey: "fs" },
    envOf(env),
  );
  assert.equal(explicit.accessKeyId, "fk");
  assert.equal(explicit.secretAccessKey, "fs");
  const none = s3ConnectionFromEnv({}, envOf({}));
  assert.equal(none.accessKeyId, undefined, "no keys: left to the default chain");
});

Deno.test("s3 connection: half a key pair is refused", () => {
  assert.throws(() => s3ConnectionFromEnv({ accessKeyId: "k" }, envOf({})), S3SinkError);
});
