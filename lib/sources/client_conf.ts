/**
 * Reads a Pulsar `client.conf` (the Java properties file `pulsar-client` and `pulsar-admin` use),
 * so a team's existing file can be reused with `--client-conf`. Only the connection keys edgepipe
 * understands are returned; the rest are ignored (they configure the Java tools' own behaviour).
 *
 * @module
 */
import { InputError } from "../errors.ts";

/** The connection settings of a client.conf. */
export interface ClientConf {
  /** `webServiceUrl`: the admin REST API. */
  webServiceUrl?: string;
  /** `brokerServiceUrl`: the binary protocol service URL. */
  brokerServiceUrl?: string;
  /** `authPlugin`: class name of the authentication plugin. */
  authPlugin?: string;
  /** `authParams`: the plugin's parameters. */
  authParams?: string;
  /** `tlsTrustCertsFilePath`: PEM CA bundle. */
  tlsTrustCertsFilePath?: string;
  /** `tlsAllowInsecureConnection`: `true` to skip certificate checks. */
  tlsAllowInsecureConnection?: boolean;
}

const KEYS = [
  "webServiceUrl",
  "brokerServiceUrl",
  "authPlugin",
  "authParams",
  "tlsTrustCertsFilePath",
] as const;

/**
 * Parses Java properties text: `key=value`, `key: value` or `key value`; `#` and `!` comments;
 * a trailing backslash continues the line; `\t`, `\n`, `\uXXXX` and escaped separators decode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProperties } from "./client_conf.ts";
 * const props = parseProperties('# c\nauthParams={"a":"b"}\nurl : pulsar://h:6650\n');
 * assert.equal(props.get("authParams"), '{"a":"b"}');
 * assert.equal(props.get("url"), "pulsar://h:6650");
 * ```
 */
export function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^[ \t\f]+/, "");
    if (line === "" || line[0] === "#" || line[0] === "!") continue;
    while (endsWithOddBackslashes(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^[ \t\f]+/, "");
    }
    let k = 0;
    while (k < line.length && !"=: \t\f".includes(line[k])) k += line[k] === "\\" ? 2 : 1;
    const key = unescape(line.slice(0, k));
    let v = k;
    while (v < line.length && " \t\f".includes(line[v])) v++;
    if (v < line.length && "=:".includes(line[v])) v++;
    while (v < line.length && " \t\f".includes(line[v])) v++;
    props.set(key, unescape(line.slice(v)));
  }
  return props;
}

function endsWithOddBackslashes(line: string): boolean {
  const m = /\\+$/.exec(line);
  return m !== null && m[0].length % 2 === 1;
}

function unescape(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c === "f" ? "\f" : c;
  });
}

/**
 * Reads the client.conf at `path`. An unreadable file is an {@linkcode InputError} naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readClientConf } from "./client_conf.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "brokerServiceUrl=pulsar://broker:6650\n");
 * assert.equal((await readClientConf(file)).brokerServiceUrl, "pulsar://broker:6650");
 * await Deno.remove(file);
 * ```
 */
export async function readClientConf(path: string): Promise<ClientConf> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (cause) {
    const reason = cause instanceof Deno.errors.NotFound
      ? "no such file"
      : cause instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (cause as Error).message;
    throw new InputError(`--client-conf: cannot read ${path}: ${reason}`);
  }
  const props = parseProperties(text);
  const conf: ClientConf = {};
  for (const key of KEYS) {
    const value = props.get(key)?.trim();
    if (value) conf[key] = value;
  }
  const insecure = props.get("tlsAllowInsecureConnection")?.trim().toLowerCase();
  if (insecure === "true") conf.tlsAllowInsecureConnection = true;
  return conf;
}
