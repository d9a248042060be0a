/**
 * `deno task test` runs through this: it starts the servers the integration tests need once (a
 * Pulsar broker unless `PULSAR_SERVICE_URL` is set, a MinIO S3 server unless `S3_ENDPOINT` is
 * set), runs the given command with their URLs in the
 * environment, stops them, and exits with the command's exit code.
 *
 * Usage: deno run -A test/harness/with_servers.ts <command> [args…]
 *
 * @module
 */
import { startBroker } from "./pulsar.ts";
import { s3Env, startMinio } from "./minio.ts";

const [command, ...args] = Deno.args;
if (!command) {
  console.error("usage: with_servers.ts <command> [args…]");
  Deno.exit(2);
}

const env: Record<string, string> = {};
const cleanups: (() => Promise<void>)[] = [];

if (!Deno.env.get("PULSAR_SERVICE_URL")) {
  const started = Date.now();
  // Transactions (exactly-once tests) need the coordinator; the standalone creates its topic.
  const broker = await startBroker({ config: { transactionCoordinatorEnabled: "true" } });
  cleanups.push(() => broker.stop());
  env.PULSAR_SERVICE_URL = broker.serviceUrl;
  env.PULSAR_ADMIN_URL = broker.adminUrl;
  console.error(
    `with_servers: Pulsar ${broker.serviceUrl} (admin ${broker.adminUrl}) ready in ${
      ((Date.now() - started) / 1000).toFixed(1)
    }s`,
  );
}

if (!Deno.env.get("S3_ENDPOINT")) {
  const minio = await startMinio();
  cleanups.push(() => minio.stop());
  Object.assign(env, s3Env(minio));
  console.error(`with_servers: MinIO ${minio.endpoint} ready`);
}

const stopAll = async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => stopAll().finally(() => Deno.exit(130)));
}

let code = 1;
try {
  const child = new Deno.Command(command, { args, env, stdin: "inherit" }).spawn();
  code = (await child.status).code;
} finally {
  await stopAll();
}
Deno.exit(code);
