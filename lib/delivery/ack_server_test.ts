import assert from "node:assert/strict";
import type { AckChannelError } from "./errors.ts";
import { AckServer } from "./ack_server.ts";
import { AckReporter } from "./ack_reporter.ts";

Deno.test("AckServer lives in a private directory and removes it on close", async () => {
  const server = await AckServer.listen({ source: "consume", onAck: () => {} });
  const dir = server.path.slice(0, server.path.lastIndexOf("/"));
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  assert.deepEqual(server.hello(), {
    $edgepipe: "hello",
    v: 1,
    ack: server.path,
    source: "consume",
  });
  await server.close();
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
});

Deno.test("AckServer receives ids from a reporter in order, across many writes", async () => {
  const got: string[] = [];
  const server = await AckServer.listen({ source: "consume", onAck: (id) => void got.push(id) });
  const reporter = new AckReporter(server.path);
  const sent: string[] = [];
  for (let batch = 0; batch < 200; batch++) {
    const ids = Array.from({ length: 50 }, (_, i) => `CAcQ${batch}-${i}==`);
    sent.push(...ids);
    reporter.report(ids);
  }
  await reporter.close();
  assert.equal(await server.waitForTerminal(5000), "finished");
  assert.equal(server.reported, 10_000);
  await server.close();
  assert.deepEqual(got, sent);
});

Deno.test("AckServer awaits asynchronous acknowledgements before finishing", async () => {
  const done: string[] = [];
  const server = await AckServer.listen({
    source: "consume",
    onAck: (id) => new Promise((resolve) => setTimeout(() => (done.push(id), resolve()), 5)),
  });
  const reporter = new AckReporter(server.path);
  reporter.report(["a", "b", "c"]);
  await reporter.close();
  assert.equal(await server.waitForTerminal(5000), "finished");
  await server.close();
  assert.deepEqual(done, ["a", "b", "c"]);
});

Deno.test("AckServer.waitForTerminal gives up on a terminal that never connects", async () => {
  const server = await AckServer.listen({ source: "consume", onAck: () => {} });
  const started = Date.now();
  assert.equal(await server.waitForTerminal(50), "never-connected");
  assert.ok(Date.now() - started >= 45);
  assert.equal(await server.waitForTerminal(10_000, 0), "never-connected");
  await server.close();
});

Deno.test("AckServer reports a failing acknowledgement, goes on, and stops at an oversized id", async () => {
  const errors: AckChannelError[] = [];
  const acked: string[] = [];
  const server = await AckServer.listen({
    source: "consume",
    onAck: (id) => {
      if (id === "bad") throw new Error("not a message id: 'bad'");
      acked.push(id);
    },
    onError: (error) => errors.push(error),
  });
  const conn = await Deno.connect({ transport: "unix", path: server.path });
  await conn.write(new TextEncoder().encode("bad\ngood\n"));
  conn.close();
  await server.waitForTerminal(5000);
  const conn2 = await Deno.connect({ transport: "unix", path: server.path });
  await conn2.write(new TextEncoder().encode("x".repeat(5000) + "\n"));
  conn2.close();
  await server.waitForTerminal(5000);
  await server.close();
  assert.equal(errors.length, 2);
  assert.match(errors[0].message, /cannot acknowledge bad: not a message id: 'bad'/);
  assert.deepEqual(acked, ["good"], "the ids after a bad one are still acknowledged");
  assert.match(errors[1].message, /longer than 4096 bytes/);
});

Deno.test("AckReporter warns once and drops reports when the source is gone", async () => {
  const warnings: string[] = [];
  const reporter = new AckReporter("/nonexistent/edgepipe/ack.sock", (m) => warnings.push(m));
  reporter.report(["a"]);
  reporter.report(["b"]);
  await reporter.close();
  assert.equal(reporter.failed, true);
  assert.equal(reporter.reported, 0);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /cannot connect to ack socket \/nonexistent\/edgepipe\/ack.sock/);
});

Deno.test("AckServer joins ids split across reads and takes a last id without a newline", async () => {
  const acked: string[] = [];
  const server = await AckServer.listen({ source: "consume", onAck: (id) => void acked.push(id) });
  const conn = await Deno.connect({ transport: "unix", path: server.path });
  const encoder = new TextEncoder();
  for (const part of ["CAcQ", "AA==\nCAcQAQ", "==\r\n\n", "CAcQAg=="]) {
    await conn.write(encoder.encode(part));
    await new Promise((resolve) => setTimeout(resolve, 20)); // separate reads on the server
  }
  conn.close();
  assert.equal(await server.waitForTerminal(5000), "finished");
  await server.close();
  assert.deepEqual(acked, ["CAcQAA==", "CAcQAQ==", "CAcQAg=="]);
  assert.equal(server.reported, 3);
});
