import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import jpeg from "jpeg-js";
import { decodeImage, type ImageLayout, type RgbaImage, writeImage } from "./image_input.ts";

/** CRC-32 (IEEE), bit by bit, for the PNG chunks written below. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** An 8-bit grey (channels 1) or RGB (3) PNG written from the format's definition. */
function png(width: number, height: number, channels: 1 | 3, pixels: number[]): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * channels));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * channels)] = 0; // filter: none
    raw.set(
      pixels.slice(y * width * channels, (y + 1) * width * channels),
      y * (1 + width * channels) + 1,
    );
  }
  const chunk = (kind: string, data: Uint8Array) => {
    const body = new Uint8Array(4 + data.length);
    body.set(new TextEncoder().encode(kind));
    body.set(data, 4);
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(body, 4);
    view.setUint32(8 + data.length, crc32(body));
    return out;
  };
  const header = new Uint8Array(13);
  const h = new DataView(header.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  header.set([8, channels === 1 ? 0 : 2, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const layout = (over: Partial<ImageLayout>): ImageLayout => ({
  width: 2,
  height: 2,
  channels: 1,
  layout: "NCHW",
  order: "RGB",
  pixelScale: 1,
  ...over,
});

function write(img: RgbaImage, l: ImageLayout): number[] {
  const out = new Float64Array(l.width * l.height * l.channels);
  writeImage(img, l, out, 0);
  return [...out];
}

Deno.test("a grey and an RGB PNG decode to their exact pixels", () => {
  const grey = decodeImage(png(3, 2, 1, [0, 1, 2, 253, 254, 255]));
  assert.equal(grey.width, 3);
  assert.equal(grey.height, 2);
  assert.deepEqual(write(grey, layout({ width: 3, height: 2 })), [0, 1, 2, 253, 254, 255]);
  const rgb = decodeImage(png(2, 1, 3, [10, 20, 30, 40, 50, 60]));
  assert.deepEqual(write(rgb, layout({ width: 2, height: 1, channels: 3 })), [
    10,
    40,
    20,
    50,
    30,
    60,
  ]);
  assert.deepEqual(
    write(rgb, layout({ width: 2, height: 1, channels: 3, layout: "NHWC", order: "BGR" })),
    [30, 20, 10, 60, 50, 40],
  );
  // Grey from colour: ITU-R BT.601 luma.
  const [luma] = write(decodeImage(png(1, 1, 3, [200, 100, 50])), layout({ width: 1, height: 1 }));
  assert.ok(Math.abs(luma - (0.299 * 200 + 0.587 * 100 + 0.114 * 50)) < 1e-9, String(luma));
});

Deno.test("bilinear resizing with pixel centres aligned (OpenCV INTER_LINEAR's values)", () => {
  const row = decodeImage(png(2, 1, 1, [0, 100]));
  // Destination x maps to source (x + 0.5) / 2 - 0.5: -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  assert.deepEqual(write(row, layout({ width: 4, height: 1 })), [0, 25, 75, 100]);
  // Halving averages each 2×2 block exactly.
  const square = decodeImage(png(4, 4, 1, [
    ...[0, 10, 20, 30],
    ...[40, 50, 60, 70],
    ...[80, 90, 100, 110],
    ...[120, 130, 140, 150],
  ]));
  assert.deepEqual(write(square, layout({})), [25, 45, 105, 125]);
});

Deno.test("scale, then mean and std per channel", () => {
  const rgb = decodeImage(png(1, 1, 3, [255, 0, 51]));
  const out = write(
    rgb,
    layout({
      width: 1,
      height: 1,
      channels: 3,
      pixelScale: 1 / 255,
      mean: [0.5, 0.5, 0.2],
      std: [0.5, 0.25, 0.1],
    }),
  );
  assert.deepEqual(out.map((v) => Math.round(v * 1e9) / 1e9), [1, -2, 0]);
});

Deno.test("JPEG: a flat colour comes back within JPEG's rounding; bad bytes are named", () => {
  const width = 16;
  const height = 16;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([200, 120, 40, 255], i * 4);
  const encoded = jpeg.encode({ width, height, data }, 95).data;
  const img = decodeImage(new Uint8Array(encoded));
  const [r, g, b] = write(img, layout({ width: 1, height: 1, channels: 3 }));
  for (const [got, want] of [[r, 200], [g, 120], [b, 40]]) {
    assert.ok(Math.abs(got - want) <= 3, `${got} vs ${want}`);
  }
  assert.throws(() => decodeImage(new Uint8Array([0xff, 0xd8, 0xff, 0, 1])), /corrupt JPEG/);
  const good = png(2, 2, 1, [1, 2, 3, 4]);
  assert.throws(() => decodeImage(good.subarray(0, 30)), /corrupt PNG/);
  assert.throws(() => decodeImage(new TextEncoder().encode("GIF89a")), /neither PNG nor JPEG/);
});
