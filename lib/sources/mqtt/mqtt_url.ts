/**
 * `mqtt://host[:port]/<topic filter>` and `mqtts://…` targets, topic filter and topic name rules
 * (MQTT 5.0 §4.7), and the connection options the MQTT source and sink share.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";

/** A parsed `mqtt://` / `mqtts://` target. */
export interface MqttTarget {
  /** `mqtt` or `mqtts` (TLS). */
  scheme: "mqtt" | "mqtts";
  host: string;
  port: number;
  /** The topic filter (source) or topic template (sink), after the first `/`. */
  topic: string;
  /** A user name given in the URL (`mqtt://user@host/…`); a password there is refused. */
  username?: string;
}

/** True when `text` names an MQTT target rather than a Pulsar topic or a file. */
export function isMqttTarget(text: string): boolean {
  return text.startsWith("mqtt://") || text.startsWith("mqtts://");
}

/**
 * Parses a target. `#` and `+` are taken literally (no URL fragment). A password in the URL is
 * refused: it would show in `ps` and shell history (use `--password-file` or `MQTT_PASSWORD`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMqttTarget } from "./mqtt_url.ts";
 * const t = parseMqttTarget("mqtt://edge@127.0.0.1/sensors/+/temp/#");
 * assert.deepEqual(t, {
 *   scheme: "mqtt", host: "127.0.0.1", port: 1883, topic: "sensors/+/temp/#", username: "edge",
 * });
 * assert.equal(parseMqttTarget("mqtts://[::1]:8884/a").port, 8884);
 * ```
 */
export function parseMqttTarget(text: string): MqttTarget {
  const match = /^(mqtts?):\/\/([^/]*)\/(.*)$/s.exec(text);
  if (!match) {
    throw new UsageError(`'${text}' is not mqtt://host[:port]/<topic> (or mqtts://)`);
  }
  const scheme = match[1] as "mqtt" | "mqtts";
  let authority = match[2];
  let username: string | undefined;
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    const user = authority.slice(0, at);
    if (user.includes(":")) {
      throw new UsageError(
        `${scheme}:// URL: no password in the URL (it shows in ps and history); ` +
          `use --password-file or MQTT_PASSWORD`,
      );
    }
    username = decodeURIComponent(user);
    authority = authority.slice(at + 1);
  }
  const hostPort = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(authority);
  if (!hostPort) throw new UsageError(`${scheme}:// URL: no host in '${text}'`);
  const host = hostPort[1].startsWith("[") ? hostPort[1].slice(1, -1) : hostPort[1];
  const port = hostPort[2] === undefined ? (scheme === "mqtts" ? 8883 : 1883) : Number(hostPort[2]);
  if (!(port > 0 && port < 65536)) throw new UsageError(`${scheme}:// URL: bad port in '${text}'`);
  const target: MqttTarget = { scheme, host, port, topic: match[3] };
  if (username !== undefined) target.username = username;
  return target;
}

/**
 * Checks a topic filter (MQTT 5.0 §4.7.1): not empty, `#` only as the whole last level, `+` only
 * as a whole level, no NUL, at most 65,535 bytes. Throws {@linkcode UsageError} saying what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTopicFilter } from "./mqtt_url.ts";
 * checkTopicFilter("a/+/b/#");
 * assert.throws(() => checkTopicFilter("a/b#"), /'#'/);
 * assert.throws(() => checkTopicFilter("a/+b"), /'\+'/);
 * ```
 */
export function checkTopicFilter(filter: string): void {
  if (filter === "") throw new UsageError("MQTT topic filter is empty");
  if (filter.includes("\u0000")) throw new UsageError("MQTT topic filter contains NUL");
  if (new TextEncoder().encode(filter).length > 65535) {
    throw new UsageError("MQTT topic filter is longer than 65535 bytes");
  }
  const levels = filter.split("/");
  levels.forEach((level, i) => {
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      throw new UsageError(
        `MQTT topic filter '${filter}': '#' must be a whole level and the last one`,
      );
    }
    if (level.includes("+") && level !== "+") {
      throw new UsageError(`MQTT topic filter '${filter}': '+' must be a whole level`);
    }
  });
}

/**
 * Checks a topic name to publish to (MQTT 5.0 §4.7.3): not empty, no wildcards, no NUL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicNameProblem } from "./mqtt_url.ts";
 * assert.equal(topicNameProblem("alerts/SFO"), undefined);
 * assert.match(topicNameProblem("alerts/#")!, /wildcard/);
 * ```
 */
export function topicNameProblem(topic: string): string | undefined {
  if (topic === "") return "the topic is empty";
  if (topic.includes("#") || topic.includes("+")) return `'${topic}' contains a wildcard`;
  if (topic.includes("\u0000")) return `'${topic}' contains NUL`;
  return undefined;
}
