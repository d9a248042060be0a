/**
 * `edgepipe route` to S3 destinations on a real server (MinIO), checked with boto3: each event
 * lands where its condition sends it, and is acknowledged only once it is there.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AckServer } from "../../lib/delivery/ack_server.ts";
import { createBucket, inspectObjects, s3Env, s3Server } from "../harness/minio.ts";

const server = await s3Server();
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

async function route(args: string[], input: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "route", ...args],
    env: s3Env(server),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("route: payments split between two S3 prefixes and stdout, all acknowledged after delivery", async () => {
  const bucket = `route-${Date.now().toString(36)}`;
  await createBucket(server, bucket);
  const dir = await Deno.makeTempDir();
  const acked: string[] = [];
  const acks = await AckServer.listen({ source: "test", onAck: (id) => void acked.push(id) });
  try {
    const events = Array.from({ length: 600 }, (_, i) => ({
      id: `p${i}`,
      value: {
        amount: (i * 37) % 2000,
        country: ["US", "DE", "BR"][i % 3],
        ...(i === 100 ? { amount: "n/a" } : {}),
      },
    }));
    const input = [JSON.stringify(acks.hello()), ...events.map((e) => JSON.stringify(e))].join(
      "\n",
    ) + "\n";
    // Whole envelopes at every destination, so each delivered event shows its id.
    const run = await route([
      "--payload",
      "envelope",
      "--to",
      `event.value.amount > 1000.0=s3://${bucket}/big/country={value.country}/?format=ndjson`,
      "--to",
      `event.value.country != "US"=s3://${bucket}/foreign/?format=parquet`,
      "--default",
      "stdout",
      "--on-error",
      `dead-letter=${join(dir, "dead.ndjson")}`,
    ], input);
    await acks.waitForTerminal(5_000);
    assert.equal(run.code, 0, run.stderr);
    const good = events.filter((e) => typeof e.value.amount === "number");
    const ids = (pick: (e: (typeof events)[number]) => boolean) =>
      good.filter(pick).map((e) => e.id).sort();
    const big = await inspectObjects(server, bucket, "big/", true);
    for (const object of big) {
      for (const line of object.lines!) {
        const e = line as { value: { country: string } };
        assert.ok(object.key.startsWith(`big/country=${e.value.country}/`), object.key);
      }
    }
    const amount = (e: (typeof events)[number]) => e.value.amount as number;
    assert.deepEqual(big.flatMap((o) => o.ids).sort(), ids((e) => amount(e) > 1000));
    const foreign = await inspectObjects(server, bucket, "foreign/");
    assert.ok(foreign.every((o) => o.key.endsWith(".parquet")));
    assert.deepEqual(
      foreign.flatMap((o) => o.ids).sort(),
      ids((e) => amount(e) <= 1000 && e.value.country !== "US"),
    );
    const printed = run.stdout.trim().split("\n").map((l) => JSON.parse(l).id).sort();
    assert.deepEqual(printed, ids((e) => amount(e) <= 1000 && e.value.country === "US"));
    const dead = JSON.parse(await Deno.readTextFile(join(dir, "dead.ndjson")));
    assert.equal(dead.id, "p100");
    assert.equal(dead.deadLetter.stage, "route");
    assert.deepEqual([...acked].sort(), events.map((e) => e.id).sort());
  } finally {
    await acks.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("route: a destination bucket that does not exist fails before reading input", async () => {
  const run = await route(
    ["--to", "event.value.a > 1.0=s3://route-missing-bucket/x/", "--default", "stdout"],
    '{"id":"a","value":{"a":2}}\n',
  );
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /bucket 'route-missing-bucket' at .* does not exist/);
  assert.equal(run.stdout, "");
});
