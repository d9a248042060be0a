/**
 * Service URLs with one or more hosts, as the other Pulsar clients accept them:
 * `pulsar://h1:6650,h2:6650` or `pulsar+ssl://h1:6651,h2:6651` (one scheme for all; a host
 * without a port gets the scheme's default). Lookups and reconnects try the hosts in turn.
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";

/** A parsed service URL. */
export interface ServiceUrl {
  /** `pulsar+ssl://`. */
  tls: boolean;
  /** Each host as its own single-host URL (`pulsar://h1:6650`), in the order given. */
  urls: string[];
}

const HOST = /^(?:([A-Za-z0-9_.-]+)|\[([0-9A-Fa-f:.]+)\])(?::(\d{1,5}))?$/;

/**
 * Parses a service URL with one or more comma-separated hosts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServiceUrls } from "./service_url.ts";
 * assert.deepEqual(parseServiceUrls("pulsar://h1:6650,h2"), {
 *   tls: false,
 *   urls: ["pulsar://h1:6650", "pulsar://h2:6650"],
 * });
 * assert.throws(() => parseServiceUrls("pulsar://h1:6650,,h2"), /empty host/);
 * ```
 */
export function parseServiceUrls(text: string): ServiceUrl {
  const url = text.trim();
  const scheme = /^(pulsar|pulsar\+ssl):\/\/(.*?)\/?$/.exec(url);
  if (!scheme) {
    throw new InvalidArgumentError(
      `'${text}' is not a pulsar:// or pulsar+ssl:// URL (e.g. pulsar://h1:6650,h2:6650)`,
    );
  }
  const tls = scheme[1] === "pulsar+ssl";
  if (scheme[2] === "") throw new InvalidArgumentError(`service URL '${text}' names no host`);
  const urls = scheme[2].split(",").map((part, i) => {
    const host = part.trim();
    if (host === "") {
      throw new InvalidArgumentError(`service URL '${text}': empty host at position ${i + 1}`);
    }
    const m = HOST.exec(host);
    const port = m?.[3] === undefined ? (tls ? 6651 : 6650) : Number(m[3]);
    if (!m || port < 1 || port > 65535) {
      throw new InvalidArgumentError(
        `service URL '${text}': '${host}' is not host[:port] (hosts are separated by commas)`,
      );
    }
    return `${scheme[1]}://${m[1] ?? `[${m[2]}]`}:${port}`;
  });
  return { tls, urls };
}
