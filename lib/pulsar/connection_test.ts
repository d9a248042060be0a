import assert from "node:assert/strict";
import { Connection, parseServiceUrl } from "./connection.ts";
import { ConnectionError, TimeoutError } from "./errors.ts";
import { encodeCommand, type Frame, FrameDecoder } from "./wire/mod.ts";
import { VERSION } from "./version.ts";

/** A tiny broker stand-in on a real socket: answers CONNECT, then does what the test says. */
async function withPeer(
  behave: (conn: Deno.Conn, frames: AsyncGenerator<Frame>) => Promise<void>,
  test: (url: string) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `pulsar://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const serving = (async () => {
    const conn = await listener.accept();
    const decoder = new FrameDecoder();
    async function* frames(): AsyncGenerator<Frame> {
      const buffer = new Uint8Array(65536);
      for (;;) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) return;
        yield* decoder.push(buffer.slice(0, n));
      }
    }
    try {
      await behave(conn, frames());
    } finally {
      try {
        conn.close();
      } catch { /* closed by the client */ }
    }
  })();
  try {
    await test(url);
  } finally {
    listener.close();
    await serving;
  }
}

async function handshake(conn: Deno.Conn, frames: AsyncGenerator<Frame>) {
  const first = (await frames.next()).value as Frame;
  await conn.write(
    encodeCommand({
      type: "CONNECTED",
      serverVersion: "peer",
      protocolVersion: 21,
      maxMessageSize: 1234,
    }),
  );
  return first;
}

Deno.test("connection: CONNECT carries the client version and protocol; CONNECTED is read", async () => {
  let connect: Frame | undefined;
  await withPeer(async (conn, frames) => {
    connect = await handshake(conn, frames);
    await frames.next(); // until the client closes
  }, async (url) => {
    const conn = await Connection.open({ url });
    assert.equal(conn.maxMessageSize, 1234);
    assert.equal(conn.serverVersion, "peer");
    conn.close();
  });
  const command = connect!.command as unknown as Record<string, unknown>;
  assert.equal(command.type, "CONNECT");
  assert.equal(command.clientVersion, `edgepipe-${VERSION}`);
  assert.ok(Number(command.protocolVersion) >= 19);
});

Deno.test("connection: answers the broker's PING with PONG", async () => {
  let answered = false;
  await withPeer(async (conn, frames) => {
    await handshake(conn, frames);
    await conn.write(encodeCommand({ type: "PING" }));
    for await (const frame of frames) {
      if (frame.command.type === "PONG") {
        answered = true;
        break;
      }
    }
  }, async (url) => {
    const conn = await Connection.open({ url });
    await conn.closed;
  });
  assert.ok(answered);
});

Deno.test("connection: a silent broker is declared dead and pending requests fail retriably", async () => {
  await withPeer(async (conn, frames) => {
    await handshake(conn, frames);
    for await (const _ of frames) { /* never answer */ }
  }, async (url) => {
    const conn = await Connection.open({ url, keepAliveMs: 100, operationTimeoutMs: 60_000 });
    const pending = conn.request({ type: "PARTITIONED_METADATA", topic: "t", requestId: 0 });
    await assert.rejects(
      pending,
      (err: unknown) => err instanceof ConnectionError && err.retriable,
    );
    // The keep-alive noticed it: the 60 s operation timeout would fail with a TimeoutError.
    const reason = await conn.closed;
    assert.match(reason.message, /stopped answering/);
  });
});

Deno.test("connection: requests time out with a TimeoutError", async () => {
  await withPeer(async (conn, frames) => {
    await handshake(conn, frames);
    for await (const _ of frames) { /* never answer */ }
  }, async (url) => {
    const conn = await Connection.open({ url });
    await assert.rejects(
      conn.request({ type: "PARTITIONED_METADATA", topic: "t", requestId: 0 }, 50),
      TimeoutError,
    );
    conn.close();
  });
});

Deno.test("connection: many small frames leave in few socket writes", async () => {
  let reads = 0, pings = 0;
  await withPeer(async (conn, frames) => {
    await handshake(conn, frames);
    const decoder = new FrameDecoder();
    const buffer = new Uint8Array(1 << 20);
    while (pings < 1000) {
      const n = await conn.read(buffer);
      if (n === null) break;
      reads++;
      pings += decoder.push(buffer.slice(0, n)).length;
    }
  }, async (url) => {
    const conn = await Connection.open({ url });
    for (let i = 0; i < 1000; i++) conn.send({ type: "PING" });
    await conn.closed;
  });
  assert.equal(pings, 1000);
  assert.ok(reads < 20, `1000 frames arrived in ${reads} reads`);
});

Deno.test("service URLs: schemes, default ports, bad input", () => {
  assert.deepEqual(parseServiceUrl("pulsar://h"), { hostname: "h", port: 6650, tls: false });
  assert.deepEqual(parseServiceUrl("pulsar+ssl://h:7"), { hostname: "h", port: 7, tls: true });
  assert.deepEqual(parseServiceUrl("pulsar://[::1]:6650/"), {
    hostname: "::1",
    port: 6650,
    tls: false,
  });
  for (const bad of ["http://h", "pulsar://", "h:6650", "pulsar://a:b"]) {
    assert.throws(() => parseServiceUrl(bad), ConnectionError, bad);
  }
});

Deno.test("connection: AUTH_CHALLENGE asks the provider for fresh credentials, CONNECT does not", async () => {
  const calls: (boolean | undefined)[] = [];
  const auth = {
    methodName: "token",
    authData(options?: { refresh?: boolean }) {
      calls.push(options?.refresh);
      return Promise.resolve(new TextEncoder().encode(`t${calls.length}`));
    },
  };
  let response: Record<string, unknown> | undefined;
  await withPeer(async (conn, frames) => {
    await handshake(conn, frames);
    await conn.write(encodeCommand({
      type: "AUTH_CHALLENGE",
      serverVersion: "peer",
      challenge: { authMethodName: "token", authData: new TextEncoder().encode("refresh") },
      protocolVersion: 21,
    }));
    for await (const frame of frames) {
      if (frame.command.type === "AUTH_RESPONSE") {
        response = frame.command as unknown as Record<string, unknown>;
        break;
      }
    }
  }, async (url) => {
    const conn = await Connection.open({ url, auth });
    await conn.closed;
  });
  assert.deepEqual(calls, [undefined, true]);
  const answer = response?.response as { authMethodName: string; authData: Uint8Array };
  assert.equal(answer.authMethodName, "token");
  assert.equal(new TextDecoder().decode(answer.authData), "t2");
});
