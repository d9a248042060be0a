/**
 * Downloads and unpacks the Pulsar distribution into the cache ahead of the test run, so a slow
 * download is reported as such rather than as a test timing out.
 *
 * @module
 */
import { ensureDistribution, PULSAR_VERSION } from "./pulsar.ts";

const home = await ensureDistribution();
console.error(`fetch_servers: Apache Pulsar ${PULSAR_VERSION} at ${home}`);
