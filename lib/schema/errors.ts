/**
 * Schema failures: a schema edgepipe cannot use, and a value or payload that does not fit one.
 *
 * @module
 */
import { InputError } from "../errors.ts";

/** Any schema failure. */
export class SchemaError extends InputError {}

/**
 * A payload that does not decode with its writer's schema, or a value that does not fit the
 * producer's schema. Per event: it follows the error policy (`--on-error`), never a half-encoded
 * message.
 */
export class SchemaValueError extends SchemaError {}

/**
 * A schema that cannot be used: a schema file that does not parse, a descriptor set that does not
 * name the message, a type edgepipe does not decode.
 */
export class SchemaDefinitionError extends SchemaError {}

/**
 * The broker's reason for refusing a schema on one line: whitespace collapsed, the repeated
 * `caused by` chain left out, at most `max` characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneLineReason } from "./errors.ts";
 * assert.equal(oneLineReason("Unable to read:\n{\n  \"a\" }  caused by X: again"),
 *   'Unable to read: { "a" }');
 * ```
 */
export function oneLineReason(message: string, max = 600): string {
  const line = message.split(" caused by ")[0].replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
