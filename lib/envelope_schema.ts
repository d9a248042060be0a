/**
 * The zod schema of an event envelope, for library users who validate envelopes they did not
 * write. Kept apart from `envelope.ts` so that commands do not load zod at start.
 *
 * @module
 */
import { z } from "zod";
import type { Envelope } from "./envelope.ts";

/**
 * Schema of an event envelope (see `docs/envelope.md`). Stages add fields (`score`, `window`)
 * and keep the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envelopeSchema } from "./envelope_schema.ts";
 * assert.equal(envelopeSchema.safeParse({ id: "x", value: 1, score: 0.5 }).success, true);
 * assert.equal(envelopeSchema.safeParse({ id: 7, value: 1 }).success, false);
 * ```
 */
export const envelopeSchema: z.ZodType<Envelope> = z.looseObject({
  topic: z.string().optional(),
  partition: z.number().int().optional(),
  /** Opaque id the source acknowledges once everything derived from the event is delivered. */
  id: z.string().optional(),
  key: z.string().nullable().optional(),
  publishTime: z.number().optional(),
  eventTime: z.number().optional(),
  properties: z.record(z.string(), z.string()).optional(),
  redeliveryCount: z.number().int().optional(),
  value: z.unknown(),
});
