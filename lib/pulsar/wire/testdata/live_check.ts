/**
 * Live sanity check of the wire codec against a real broker: CONNECT → CONNECTED, PING → PONG,
 * PARTITIONED_METADATA, LOOKUP, then PRODUCER + SEND and SUBSCRIBE + FLOW → MESSAGE + ACK.
 *
 * Usage: deno run -A lib/pulsar/wire/testdata/live_check.ts [pulsar://127.0.0.1:6650]
 *
 * @module
 */
import {
  type Command,
  encodeCommand,
  encodePayloadCommand,
  type Frame,
  FrameDecoder,
  PROTOCOL_VERSION,
} from "../mod.ts";

const url = new URL(Deno.args[0] ?? "pulsar://127.0.0.1:6650");
const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 6650) });
const decoder = new FrameDecoder();
const reader = conn.readable.getReader();
const queue: Frame[] = [];

async function next(): Promise<Frame> {
  while (queue.length === 0) {
    const { value, done } = await reader.read();
    if (done) throw new Error("connection closed");
    queue.push(...decoder.push(value));
  }
  return queue.shift()!;
}

async function call(cmd: Command, payload?: Uint8Array): Promise<Frame> {
  const bytes = payload === undefined ? encodeCommand(cmd) : encodePayloadCommand(
    cmd,
    { producerName: "edgepipe-live-check", sequenceId: 0, publishTime: Date.now() },
    payload,
  );
  await conn.write(bytes);
  for (;;) {
    const frame = await next();
    if (frame.command.type === "PING") {
      await conn.write(encodeCommand({ type: "PONG" }));
      continue;
    }
    console.log("←", JSON.stringify(frame.command, (_, v) => typeof v === "bigint" ? `${v}n` : v));
    return frame;
  }
}

const topic = `persistent://public/default/edgepipe-wire-live-${Date.now()}`;
try {
  const connected = await call({
    type: "CONNECT",
    clientVersion: "edgepipe-wire-check",
    protocolVersion: PROTOCOL_VERSION,
    featureFlags: { supportsAuthRefresh: true, supportsBrokerEntryMetadata: true },
  });
  if (connected.command.type !== "CONNECTED") throw new Error("expected CONNECTED");
  const pong = await call({ type: "PING" });
  if (pong.command.type !== "PONG") throw new Error("expected PONG");
  await call({ type: "PARTITIONED_METADATA", topic, requestId: 1 });
  const lookup = await call({ type: "LOOKUP", topic, requestId: 2 });
  if (lookup.command.type !== "LOOKUP_RESPONSE") throw new Error("expected LOOKUP_RESPONSE");
  await call({ type: "PRODUCER", topic, producerId: 1, requestId: 3 });
  const receipt = await call(
    { type: "SEND", producerId: 1, sequenceId: 0, numMessages: 1 },
    new TextEncoder().encode("hello from edgepipe"),
  );
  if (receipt.command.type !== "SEND_RECEIPT") throw new Error("expected SEND_RECEIPT");
  await call({
    type: "SUBSCRIBE",
    topic,
    subscription: "live-check",
    subType: "Exclusive",
    consumerId: 1,
    requestId: 4,
    initialPosition: "Earliest",
  });
  const message = await call({ type: "FLOW", consumerId: 1, messagePermits: 10 });
  if (message.command.type !== "MESSAGE") throw new Error("expected MESSAGE");
  console.log("   payload:", new TextDecoder().decode(message.payload));
  console.log("   metadata:", JSON.stringify(message.metadata));
  await call({
    type: "ACK",
    consumerId: 1,
    ackType: "Individual",
    messageId: [message.command.messageId],
    requestId: 5,
  });
  await call({ type: "UNSUBSCRIBE", consumerId: 1, requestId: 6, force: true });
  await call({ type: "CLOSE_PRODUCER", producerId: 1, requestId: 7 });
  console.log("live check passed");
} finally {
  conn.close();
}
