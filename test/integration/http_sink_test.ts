/**
 * `edgepipe sink http` against a real HTTP server started by the test (Deno.serve on a free
 * port): batches, a secret header from a file (never printed), retries with backoff on 503 and
 * 429 + Retry-After, a 400 that follows --on-error, timeouts, and delivery reports over the ack
 * channel only for what the server took.
 */
import assert from "node:assert/strict";
import { AckServer } from "../../lib/delivery/ack_server.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";

Deno.test({
  name: "sink http: batches, secret headers, retries, a refused batch, delivery reports",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const bodies: unknown[][] = [];
    const auth: (string | null)[] = [];
    let calls = 0;
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        calls++;
        auth.push(req.headers.get("authorization"));
        const batch = await req.json() as { n: number; bad?: boolean }[];
        if (calls === 1) return new Response("busy", { status: 503 });
        if (calls === 2) {
          return new Response("slow down", { status: 429, headers: { "retry-after": "1" } });
        }
        if (
          batch.some((e) => e.bad)
        ) return new Response("bad event", { status: 400 });
        bodies.push(batch);
        return new Response("ok");
      },
    );
    const url = `http://127.0.0.1:${server.addr.port}/hook`;
    const dir = await Deno.makeTempDir();
    const secret = `Bearer tok-${crypto.randomUUID()}`;
    await Deno.writeTextFile(`${dir}/auth`, secret + "\n");
    const acked: string[] = [];
    const acks = await AckServer.listen({ source: "consume", onAck: (id) => void acked.push(id) });
    try {
      const events = Array.from(
        { length: 10 },
        (_, n) => ({ id: `e${n}`, value: { n, bad: n === 7 || undefined } }),
      );
      const input = [
        JSON.stringify(acks.hello()),
        ...events.map((e) => JSON.stringify(e)),
      ].join("\n") + "\n";
      const run = await runEdgepipe(
        [
          "sink",
          "http",
          "--url",
          url,
          "--batch",
          "3",
          "--header-file",
          `Authorization=${dir}/auth`,
          "--on-error",
          "skip",
        ],
        { stdin: input },
      );
      await acks.waitForTerminal(5000);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(!run.stderr.includes(secret.slice(7)), "the secret must not be printed");
      assert.match(run.stderr, /HTTP 503/);
      assert.match(run.stderr, /HTTP 429/);
      assert.match(run.stderr, /refused a batch of 3: HTTP 400/);
      assert.ok(auth.every((a) => a === secret), "every request carries the header from the file");
      // Batches [0,1,2], [3,4,5], [9] taken (two requests go at once, so in any order, and the
      // first two calls were retried); [6,7,8] refused whole (skipped).
      const taken = bodies.map((b) => b.map((e) => (e as { n: number }).n)).sort((a, b) =>
        a[0] - b[0]
      );
      assert.deepEqual(taken, [[0, 1, 2], [
        3,
        4,
        5,
      ], [9]]);
      assert.deepEqual(acked, ["e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"]);

      // Unreachable: bounded retries, then exit 1 and nothing reported.
      const acked2: string[] = [];
      const acks2 = await AckServer.listen({
        source: "consume",
        onAck: (id) => void acked2.push(id),
      });
      const down = await runEdgepipe(
        ["sink", "http", "--url", "http://127.0.0.1:1/x", "--retries", "2", "--timeout", "1s"],
        { stdin: JSON.stringify(acks2.hello()) + '\n{"id":"x1","value":1}\n' },
      );
      await acks2.waitForTerminal(5000);
      await acks2.close();
      assert.equal(down.code, 1);
      assert.match(down.stderr, /failed 2 time\(s\)/);
      assert.deepEqual(acked2, []);
      const noUrl = await runEdgepipe(["sink", "http"], { stdin: "" });
      assert.equal(noUrl.code, 2);
    } finally {
      await acks.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
