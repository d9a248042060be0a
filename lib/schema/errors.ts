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
