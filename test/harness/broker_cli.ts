/**
 * `deno task broker`: starts a real Pulsar broker for a person, prints its URLs and waits for
 * Ctrl-C. `--secure` adds TLS listeners and token authentication and prints the admin token.
 *
 * @module
 */
import { startBroker } from "./pulsar.ts";

const secure = Deno.args.includes("--secure");
const started = Date.now();
console.error("starting Pulsar standalone (first run downloads the distribution)…");
const broker = await startBroker({
  secure,
  // Transactions (`--guarantee exactly-once`) need the coordinator.
  config: { transactionCoordinatorEnabled: "true" },
  brokerPort: Deno.args.includes("--default-ports") ? 6650 : undefined,
  webPort: Deno.args.includes("--default-ports") ? 8080 : undefined,
});
console.log(`export PULSAR_SERVICE_URL=${broker.serviceUrl}`);
console.log(`export PULSAR_ADMIN_URL=${broker.adminUrl}`);
if (broker.secure) {
  console.log(`export PULSAR_TLS_SERVICE_URL=${broker.secure.tlsServiceUrl}`);
  console.log(`export PULSAR_AUTH_TOKEN=${broker.secure.adminToken}`);
  console.log(`export PULSAR_TLS_CA=${broker.secure.caCertFile}`);
}
console.error(
  `ready in ${
    ((Date.now() - started) / 1000).toFixed(1)
  }s; log: ${broker.logFile}; Ctrl-C stops it`,
);
const stop = () => broker.stop().finally(() => Deno.exit(0));
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
