/**
 * The client version sent to brokers as `edgepipe-<version>`, taken from deno.json so that it
 * cannot drift from the package version.
 *
 * @module
 */
import config from "../../deno.json" with { type: "json" };

/** edgepipe's version. */
export const VERSION: string = config.version;
