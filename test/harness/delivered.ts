/**
 * Checks a delivered message against the envelope a person saw before the terminal stage, from
 * the contract in docs/envelope.md ("What a terminal stage delivers") and not from edgepipe's
 * own code: value fields and stage additions in the payload, key, event time and properties as
 * message metadata, transport fields not delivered.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { JavaMessage } from "./java_client.ts";

/** The documented transport fields: where the input came from, never delivered. */
export const TRANSPORT_FIELDS = new Set([
  "id",
  "topic",
  "partition",
  "publishTime",
  "redeliveryCount",
]);

/** Asserts that `message` holds every field of `seen`; `where` names the message in failures. */
export function assertHolds(
  seen: Record<string, unknown>,
  message: JavaMessage,
  where: string,
): void {
  const payload = JSON.parse(message.content);
  for (const [field, value] of Object.entries(seen)) {
    if (TRANSPORT_FIELDS.has(field)) continue;
    if (field === "key") {
      assert.equal(message.key, value, `${where}: message key`);
      // A window result's key is the group of its aggregates: also in the record.
      if (seen.window !== undefined) assert.equal(payload.key, value, `${where}: key field`);
    } else if (field === "eventTime") {
      assert.equal(message.eventTime, value, `${where}: event time`);
    } else if (field === "properties") {
      assert.deepEqual(message.properties, value, `${where}: properties`);
    } else if (field === "value") {
      const inner = value as Record<string, unknown>;
      for (const [name, v] of Object.entries(inner)) {
        assert.deepEqual(payload[name], v, `${where}: value field ${name}`);
      }
    } else {
      assert.deepEqual(payload[field], value, `${where}: ${field}`);
    }
  }
}
