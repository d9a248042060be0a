/**
 * The official Java command-line client from the broker's distribution (`bin/pulsar-client`),
 * the interop peer for edgepipe's own client.
 *
 * @module
 */
import { ensureDistribution } from "./pulsar.ts";
import { run } from "./process.ts";

/** Connection settings for the Java client. */
export interface JavaClientTarget {
  serviceUrl: string;
  token?: string;
  caCertFile?: string;
}

/** Runs `bin/pulsar-client <args>` against `target`; throws with its output when it fails. */
export async function pulsarClient(target: JavaClientTarget, args: string[]): Promise<string> {
  const home = await ensureDistribution();
  const connection = [`--url=${target.serviceUrl}`];
  if (target.token) {
    connection.push(
      "--auth-plugin=org.apache.pulsar.client.impl.auth.AuthenticationToken",
      `--auth-params=token:${target.token}`,
    );
  }
  if (target.caCertFile) connection.push(`--tlsTrustCertsFilePath=${target.caCertFile}`);
  const result = await run(`${home}/bin/pulsar-client`, [...connection, ...args], {
    env: { PULSAR_MEM: "-Xmx256m", PULSAR_LOG_LEVEL: "warn" },
  });
  if (!result.ok) {
    throw new Error(
      `pulsar-client ${args[0]} exited with ${result.code}:\n${result.output.slice(-3000)}`,
    );
  }
  return result.output;
}

/** Parses the `content:` of each message `pulsar-client consume` printed. */
export function consumedContents(output: string): string[] {
  return [...output.matchAll(/^.*content:(.*)$/gm)].map((match) => match[1]);
}
