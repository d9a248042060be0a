/**
 * The client version sent to brokers as `edgepipe-<version>` (kept in step with deno.json).
 *
 * @module
 */

/** edgepipe's version. */
export const VERSION = "0.1.0";
