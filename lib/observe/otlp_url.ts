/**
 * The `--otlp <url>` value, checked without loading the OpenTelemetry SDK (which only loads when
 * the flag is given).
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/**
 * An http(s) URL of an OTLP/HTTP receiver; `/v1/traces` is added when it has no path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOtlpUrl } from "./otlp_url.ts";
 * assert.equal(parseOtlpUrl("http://collector:4318"), "http://collector:4318/v1/traces");
 * assert.throws(() => parseOtlpUrl("collector:4318"), /--otlp: expected an http\(s\) URL/);
 * ```
 */
export function parseOtlpUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new UsageError(`--otlp: expected an http(s) URL, got '${text}'`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--otlp: expected an http(s) URL, got '${text}'`);
  }
  if (url.pathname === "/") url.pathname = "/v1/traces";
  return url.toString();
}
