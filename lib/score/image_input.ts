/**
 * Image features: a PNG or JPEG (bytes, or base64 text in an event field) decoded with the pure-JS
 * `pngjs` and `jpeg-js`, resized to the spec's size (bilinear, pixel centres aligned: a source
 * pixel covers the unit square around its centre, as OpenCV's `INTER_LINEAR` and PyTorch's
 * `align_corners=False`), turned grey or put in RGB/BGR order, scaled and normalised per channel,
 * and written in NCHW or NHWC order.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import pngjs from "pngjs";
import jpeg from "jpeg-js";

/** A decoded image: `width × height` RGBA pixels, 8 bits each. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** How an image becomes input columns (the `image` feature of a spec). */
export interface ImageLayout {
  width: number;
  height: number;
  channels: 1 | 3;
  layout: "NCHW" | "NHWC";
  order: "RGB" | "BGR";
  pixelScale: number;
  mean?: number[];
  std?: number[];
}

/** Largest encoded image accepted, and the most pixels one may decode to. */
const MAX_BYTES = 32 << 20;
const MAX_PIXELS = 1 << 26;

interface PngApi {
  PNG: { sync: { read(buffer: Buffer): { width: number; height: number; data: Buffer } } };
}

/**
 * Decodes PNG or JPEG bytes (told apart by their signature); throws an Error saying why not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeImage } from "./image_input.ts";
 * assert.throws(() => decodeImage(new Uint8Array([1, 2, 3])), /neither PNG nor JPEG/);
 * ```
 */
export function decodeImage(bytes: Uint8Array): RgbaImage {
  if (bytes.length > MAX_BYTES) throw new Error(`image of ${bytes.length} bytes is too large`);
  const png = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e &&
    bytes[3] === 0x47;
  const jpg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!png && !jpg) throw new Error("neither PNG nor JPEG (unknown signature)");
  try {
    if (png) {
      const img = (pngjs as unknown as PngApi).PNG.sync.read(
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length),
      );
      return {
        width: img.width,
        height: img.height,
        data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length),
      };
    }
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: 512,
    });
    return { width: img.width, height: img.height, data: img.data };
  } catch (err) {
    throw new Error(`corrupt ${png ? "PNG" : "JPEG"}: ${(err as Error).message}`);
  }
}

/** Decodes base64 text (standard or URL-safe alphabet) to bytes. */
export function base64Bytes(text: string): Uint8Array {
  const buf = Buffer.from(text, "base64");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/**
 * Writes `img` as `layout` says into `out` from `offset`: `channels × height × width` values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeImage } from "./image_input.ts";
 * // 2×1 RGBA: a black and a white pixel, shrunk to one grey pixel.
 * const img = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 255, 255, 255, 255]) };
 * const out = new Float32Array(1);
 * writeImage(img, { width: 1, height: 1, channels: 1, layout: "NCHW", order: "RGB",
 *   pixelScale: 1 }, out, 0);
 * assert.ok(Math.abs(out[0] - 127.5) < 1e-3);
 * ```
 */
export function writeImage(
  img: RgbaImage,
  layout: ImageLayout,
  out: { [i: number]: number },
  offset: number,
): void {
  const { width: W, height: H, channels: C } = layout;
  const plane = W * H;
  const mean = layout.mean ?? [0, 0, 0];
  const std = layout.std ?? [1, 1, 1];
  const scale = layout.pixelScale;
  const sx = img.width / W;
  const sy = img.height / H;
  const px = new Float64Array(4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      sample(img, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, px);
      for (let c = 0; c < C; c++) {
        let v: number;
        if (C === 1) {
          // A grey pixel stays exactly its value.
          v = px[0] === px[1] && px[1] === px[2]
            ? px[0]
            : 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
        } else v = px[layout.order === "RGB" ? c : 2 - c];
        v = (v * scale - mean[c]) / std[c];
        const at = layout.layout === "NCHW" ? c * plane + y * W + x : (y * W + x) * C + c;
        out[offset + at] = v;
      }
    }
  }
}

/** Bilinear sample at source coordinates (clamped at the edges) into `px` (R, G, B, A). */
function sample(img: RgbaImage, fx: number, fy: number, px: Float64Array): void {
  const { width, height, data } = img;
  const cx = Math.min(Math.max(fx, 0), width - 1);
  const cy = Math.min(Math.max(fy, 0), height - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const tx = cx - x0;
  const ty = cy - y0;
  const a = (y0 * width + x0) * 4;
  const b = (y0 * width + x1) * 4;
  const c = (y1 * width + x0) * 4;
  const d = (y1 * width + x1) * 4;
  for (let k = 0; k < 4; k++) {
    const top = data[a + k] + (data[b + k] - data[a + k]) * tx;
    const bottom = data[c + k] + (data[d + k] - data[c + k]) * tx;
    px[k] = top + (bottom - top) * ty;
  }
}
