/**
 * kcat-style output format strings for `edgepipe consume -f`.
 *
 * | token | meaning                                   |
 * | ----- | ----------------------------------------- |
 * | `%t`  | topic (without the partition suffix)      |
 * | `%p`  | partition index (-1 when not partitioned) |
 * | `%i`  | message id (opaque, base64; also `%o`)    |
 * | `%k`  | key (empty when none)                     |
 * | `%s`  | payload, decoded as `--payload` says      |
 * | `%S`  | payload size in bytes                     |
 * | `%T`  | publish time, epoch ms                    |
 * | `%E`  | event time, epoch ms (empty when none)    |
 * | `%h`  | properties as `k=v,k=v`                   |
 * | `%r`  | redelivery count                          |
 * | `%%`  | a percent sign                            |
 *
 * Escapes `\n`, `\t`, `\r` and `\\` work inside the string; nothing is added at the end (as in
 * kcat), so end the format with `\n` for one line per message.
 *
 * @module
 */
import type { Envelope } from "../envelope.ts";
import { UsageError } from "../errors.ts";

/** Formats one message from its envelope and payload size. */
export type Formatter = (envelope: Envelope, payloadBytes: number) => string;

/**
 * Compiles a format string once; the result formats each message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFormat } from "./format_string.ts";
 * const format = compileFormat("%k=%s (%S bytes)\\n");
 * assert.equal(format({ key: "a", value: { n: 1 } }, 7), 'a={"n":1} (7 bytes)\n');
 * ```
 */
export function compileFormat(format: string): Formatter {
  const parts: ((e: Envelope, size: number) => string)[] = [];
  let literal = "";
  const flush = () => {
    if (literal !== "") {
      const text = literal;
      parts.push(() => text);
      literal = "";
    }
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === "\\" && i + 1 < format.length) {
      const escaped = { n: "\n", t: "\t", r: "\r", "\\": "\\" }[format[i + 1]];
      if (escaped !== undefined) {
        literal += escaped;
        i++;
        continue;
      }
    }
    if (c !== "%") {
      literal += c;
      continue;
    }
    const token = format[++i];
    if (token === "%") {
      literal += "%";
      continue;
    }
    const part = TOKENS[token as keyof typeof TOKENS];
    if (!part) {
      throw new UsageError(
        `-f: unknown token '%${token ?? ""}' (known: %t %p %i %o %k %s %S %T %E %h %r %%)`,
      );
    }
    flush();
    parts.push(part);
  }
  flush();
  return (envelope, size) => {
    let out = "";
    for (const part of parts) out += part(envelope, size);
    return out;
  };
}

const TOKENS = {
  t: (e: Envelope) => e.topic ?? "",
  p: (e: Envelope) => String(e.partition ?? -1),
  i: (e: Envelope) => e.id ?? "",
  o: (e: Envelope) => e.id ?? "",
  k: (e: Envelope) => e.key ?? "",
  s: (e: Envelope) => (typeof e.value === "string" ? e.value : JSON.stringify(e.value)),
  S: (_: Envelope, size: number) => String(size),
  T: (e: Envelope) => String(e.publishTime ?? ""),
  E: (e: Envelope) => (e.eventTime === undefined ? "" : String(e.eventTime)),
  h: (e: Envelope) => Object.entries(e.properties ?? {}).map(([k, v]) => `${k}=${v}`).join(","),
  r: (e: Envelope) => String(e.redeliveryCount ?? 0),
};
