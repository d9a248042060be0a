import assert from "node:assert/strict";
import fc from "fast-check";
import { chunk, command, metadata, payloadCommand } from "./arbitraries_test_util.ts";
import {
  type Command,
  encodeCommand,
  encodePayloadCommand,
  type Frame,
  FrameDecoder,
  ProtocolError,
} from "./mod.ts";
import { ProtoWriter } from "./protobuf.ts";

function decodeAll(chunks: Uint8Array[], decoder = new FrameDecoder()): Frame[] {
  const frames = chunks.flatMap((c) => decoder.push(c));
  decoder.finish();
  return frames;
}

/** Builds a frame around a hand-written BaseCommand body. */
function rawFrame(write: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  w.u32(0);
  w.u32(0);
  write(w);
  w.setU32(0, w.pos - 4);
  w.setU32(4, w.pos - 8);
  return w.finish();
}

Deno.test("frame: any command round-trips through encodeCommand and a chunked decoder", () => {
  fc.assert(
    fc.property(command, fc.array(fc.nat(), { maxLength: 6 }), (cmd, cuts) => {
      const frames = decodeAll(chunk(encodeCommand(cmd), cuts));
      assert.deepEqual(frames, [{ command: cmd }]);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("frame: payload frames round-trip command, metadata and payload", () => {
  fc.assert(
    fc.property(
      payloadCommand,
      metadata,
      fc.uint8Array({ maxLength: 2048 }),
      fc.array(fc.nat(), { maxLength: 4 }),
      (cmd, md, payload, cuts) => {
        const frames = decodeAll(chunk(encodePayloadCommand(cmd, md, payload), cuts));
        assert.deepEqual(frames, [{ command: cmd, metadata: md, payload }]);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("frame: many frames in one chunk and one frame byte by byte", () => {
  const commands: Command[] = [
    { type: "PING" },
    { type: "FLOW", consumerId: 1, messagePermits: 1000 },
    { type: "SUCCESS", requestId: 2 },
  ];
  const all = new Uint8Array(commands.flatMap((c) => [...encodeCommand(c)]));
  assert.deepEqual(
    new FrameDecoder().push(all).map((f) => f.command),
    commands,
  );
  const decoder = new FrameDecoder();
  const seen: Frame[] = [];
  for (let i = 0; i < all.length; i++) {
    seen.push(...decoder.push(all.subarray(i, i + 1)));
    assert.ok(decoder.bufferedBytes <= all.length);
  }
  assert.deepEqual(seen.map((f) => f.command), commands);
  assert.equal(decoder.bufferedBytes, 0);
});

Deno.test("frame: a frame over the size limit is rejected as soon as its size is known", () => {
  const header = new Uint8Array([0x00, 0x60, 0x00, 0x00]); // 6 MiB
  assert.throws(() => new FrameDecoder().push(header), /exceeds the limit/);
  const flow = encodeCommand({ type: "FLOW", consumerId: 1, messagePermits: 1 });
  assert.equal(new FrameDecoder({ maxFrameSize: flow.length }).push(flow).length, 1);
  assert.throws(
    () => new FrameDecoder({ maxFrameSize: flow.length - 1 }).push(flow),
    (err) => err instanceof ProtocolError && /exceeds the limit/.test(err.message),
  );
});

Deno.test("frame: a flipped payload bit is a checksum mismatch", () => {
  const frame = encodePayloadCommand(
    { type: "SEND", producerId: 1, sequenceId: 1 },
    { producerName: "p", sequenceId: 1, publishTime: 1 },
    new Uint8Array([1, 2, 3, 4]),
  );
  frame[frame.length - 2] ^= 0x10;
  assert.throws(() => new FrameDecoder().push(frame), /checksum mismatch/);
});

Deno.test("frame: payload without the checksum magic (old peers) is still read", () => {
  const md = { producerName: "p", sequenceId: 3, publishTime: 5 };
  const checked = encodePayloadCommand(
    { type: "SEND", producerId: 1, sequenceId: 3 },
    md,
    new Uint8Array([9]),
  );
  const commandSize = new DataView(checked.buffer).getUint32(4);
  const unchecked = new Uint8Array(checked.length - 6);
  unchecked.set(checked.subarray(0, 8 + commandSize));
  unchecked.set(checked.subarray(8 + commandSize + 6), 8 + commandSize);
  new DataView(unchecked.buffer).setUint32(0, unchecked.length - 4);
  const [frame] = new FrameDecoder().push(unchecked);
  assert.deepEqual(frame.metadata, md);
  assert.deepEqual(frame.payload, new Uint8Array([9]));
});

Deno.test("frame: unknown command types are a ProtocolError", () => {
  const bytes = rawFrame((w) => {
    w.uint64Field(1, 99);
    w.bytesField(99, new Uint8Array(0));
  });
  assert.throws(() => new FrameDecoder().push(bytes), /unknown command type 99/);
  const noType = rawFrame((w) => w.bytesField(18, new Uint8Array(0)));
  assert.throws(() => new FrameDecoder().push(noType), /without a type/);
  const noBody = rawFrame((w) => w.uint64Field(1, 11));
  assert.throws(() => new FrameDecoder().push(noBody), /without its command body/);
});

Deno.test("frame: unknown fields are skipped; missing required fields are rejected", () => {
  const withExtras = rawFrame((w) => {
    w.uint64Field(1, 11); // FLOW
    const start = w.beginLength(11);
    w.uint64Field(1, 5);
    w.uint64Field(40, 123456789); // a field from a newer protocol
    w.bytesField(41, new Uint8Array(300));
    w.doubleField(42, 1.5);
    w.tag(43, 5);
    w.u32(1);
    w.uint64Field(2, 1000);
    w.endLength(start);
    w.stringField(200, "future BaseCommand field");
  });
  assert.deepEqual(new FrameDecoder().push(withExtras), [
    { command: { type: "FLOW", consumerId: 5, messagePermits: 1000 } },
  ]);
  const missing = rawFrame((w) => {
    w.uint64Field(1, 11);
    const start = w.beginLength(11);
    w.uint64Field(1, 5);
    w.endLength(start);
  });
  assert.throws(() => new FrameDecoder().push(missing), /missing required messagePermits/);
});

Deno.test("frame: a wrong wire type for a known field is skipped like an unknown field", () => {
  const bytes = rawFrame((w) => {
    w.uint64Field(1, 13); // SUCCESS
    const start = w.beginLength(13);
    w.stringField(1, "not a number");
    w.uint64Field(1, 8);
    w.endLength(start);
  });
  assert.deepEqual(new FrameDecoder().push(bytes)[0].command, { type: "SUCCESS", requestId: 8 });
});

Deno.test("frame: property keys like __proto__ stay plain data", () => {
  const md = {
    producerName: "p",
    sequenceId: 1,
    publishTime: 1,
    properties: JSON.parse('{"__proto__":"x","constructor":"y"}'),
  };
  const [frame] = new FrameDecoder().push(
    encodePayloadCommand({ type: "SEND", producerId: 1, sequenceId: 1 }, md, new Uint8Array()),
  );
  assert.deepEqual(Object.keys(frame.metadata!.properties!), ["__proto__", "constructor"]);
  assert.equal(Object.getPrototypeOf(frame.metadata!.properties), Object.prototype);
});

Deno.test("frame: extra bytes after a command without payload are rejected", () => {
  const flow = encodeCommand({ type: "FLOW", consumerId: 1, messagePermits: 1 });
  const longer = new Uint8Array(flow.length + 3);
  longer.set(flow);
  new DataView(longer.buffer).setUint32(0, longer.length - 4);
  assert.throws(() => new FrameDecoder().push(longer), /unexpected bytes/);
});

Deno.test("frame: a decoder that failed stays failed; finish() reports a cut frame", () => {
  const decoder = new FrameDecoder();
  assert.throws(() => decoder.push(new Uint8Array([0, 0, 0, 1, 0])), ProtocolError);
  const ping = encodeCommand({ type: "PING" });
  assert.throws(() => decoder.push(ping), ProtocolError);
  const cut = new FrameDecoder();
  assert.deepEqual(cut.push(ping.subarray(0, 6)), []);
  assert.throws(() => cut.finish(), /ended inside a frame/);
});

Deno.test("frame: encoding rejects invalid commands with a ProtocolError", () => {
  const bad = [
    { type: "NOPE" },
    { type: "FLOW", consumerId: 1 },
    { type: "FLOW", consumerId: -0.5, messagePermits: 1 },
    { type: "ERROR", requestId: 1, error: "NoSuchError", message: "x" },
    { type: "LOOKUP", topic: 42, requestId: 1 },
    { type: "ACK", consumerId: 1, ackType: "Individual", messageId: "not a list" },
  ];
  for (const cmd of bad) {
    assert.throws(
      () => encodeCommand(cmd as unknown as Command),
      ProtocolError,
      JSON.stringify(cmd),
    );
  }
});

// ---- fuzzing: whatever the bytes, the decoder yields frames or a ProtocolError, nothing else.

const seeds: Uint8Array[] = [
  encodeCommand({ type: "PING" }),
  encodeCommand({ type: "FLOW", consumerId: 1, messagePermits: 1000 }),
  encodeCommand({
    type: "ACK",
    consumerId: 2,
    ackType: "Individual",
    messageId: [{
      ledgerId: 2n ** 63n - 1n,
      entryId: -1,
      partition: -1,
      batchIndex: 3,
      ackSet: [7],
    }],
  }),
  encodePayloadCommand(
    { type: "MESSAGE", consumerId: 1, messageId: { ledgerId: 1, entryId: 2 }, redeliveryCount: 0 },
    { producerName: "p", sequenceId: 1, publishTime: 1732400000000, properties: { a: "b" } },
    new TextEncoder().encode("payload bytes"),
  ),
];

function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const out = [...bytes];
  const ops = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(rand() * (out.length + 1));
    switch (Math.floor(rand() * 6)) {
      case 0: // bit flip
        if (out.length) out[at % out.length] ^= 1 << Math.floor(rand() * 8);
        break;
      case 1: // truncate
        out.length = at;
        break;
      case 2: // extend with random bytes
        for (let n = Math.floor(rand() * 16); n > 0; n--) out.push(Math.floor(rand() * 256));
        break;
      case 3: // random byte
        if (out.length) out[at % out.length] = Math.floor(rand() * 256);
        break;
      case 4: // delete a byte
        out.splice(at, 1);
        break;
      case 5: // duplicate a run
        out.splice(at, 0, ...out.slice(at, at + Math.floor(rand() * 8)));
        break;
    }
  }
  return Uint8Array.from(out);
}

function feed(bytes: Uint8Array, cuts: number[]): "frames" | "error" {
  try {
    for (const frame of decodeAll(chunk(bytes, cuts))) {
      assert.equal(typeof frame.command.type, "string");
    }
    return "frames";
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    // The decoder's catch-all would hide a slip in the codec: it must never be needed.
    assert.notEqual(err.message, "malformed frame", String(err.cause));
    return "error";
  }
}

Deno.test("frame fuzz: mutated valid frames give frames or a ProtocolError", () => {
  let errors = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.integer(),
      fc.array(fc.nat(), { maxLength: 5 }),
      (seed, randomSeed, cuts) => {
        const rand = mulberry32(randomSeed);
        if (feed(mutate(seed, rand), cuts) === "error") errors++;
      },
    ),
    { numRuns: 5000 },
  );
  assert.ok(errors > 1000, `mutations should mostly break frames (${errors} errors)`);
});

Deno.test("frame fuzz: random bytes and random sizes give frames or a ProtocolError", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.nat({ max: 200 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      (body, declared, cuts) => {
        const bytes = new Uint8Array(8 + body.length);
        const view = new DataView(bytes.buffer);
        view.setUint32(0, Math.min(declared, 4 + body.length));
        view.setUint32(4, Math.min(declared, body.length));
        bytes.set(body, 8);
        feed(bytes, cuts);
        feed(body, cuts);
      },
    ),
    { numRuns: 5000 },
  );
});

Deno.test("frame fuzz: any bit flip in the checksum, metadata or payload is caught", () => {
  const frame = seeds[3];
  const commandEnd = 8 + new DataView(frame.buffer).getUint32(4);
  let flips = 0;
  for (let i = commandEnd + 2; i < frame.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = frame.slice();
      copy[i] ^= 1 << bit;
      assert.equal(feed(copy, []), "error", `flip of bit ${bit} in byte ${i} went unnoticed`);
      flips++;
    }
  }
  assert.equal(flips, (frame.length - commandEnd - 2) * 8);
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
