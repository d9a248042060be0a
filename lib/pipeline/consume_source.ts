/**
 * The `consume` source of a pipeline file: a Pulsar subscription read in-process by the same
 * {@linkcode ConsumeSession} as `edgepipe consume`. The first item is a `hello` record naming an
 * ack socket, the terminal delivery reports delivered ids there (in the same process), and only
 * those messages are acknowledged at the broker; with `exitAtEnd` the last item is the `end`
 * record. What was not acknowledged when the process stops is redelivered later.
 *
 * @module
 */
import { endRecord, type Item } from "../envelope.ts";
import { PulsarClient } from "../pulsar/mod.ts";
import { ConsumeSession } from "../sources/consume/consume_session.ts";
import { decryptorFromFiles } from "../sources/encryption_flags.ts";
import { clientOptions, type ConnectionFlagValues } from "../sources/pulsar_connect.ts";
import type { SourcePlan } from "./plan.ts";
import type { PipelineSource, RejectHandling } from "./sources.ts";

/**
 * Connects (with `connection`, the pipeline file's `pulsar:` block as flags), subscribes and
 * listens for acknowledgements.
 */
export async function openConsumeSource(
  plan: Extract<SourcePlan, { kind: "consume" }>,
  handling: RejectHandling,
  connection: ConnectionFlagValues = { "service-url": plan.serviceUrl },
): Promise<PipelineSource> {
  const decryptor = await decryptorFromFiles(plan.decryptKeys ?? [], "encryption.decryptKeys");
  const client = new PulsarClient(await clientOptions(connection));
  let session: ConsumeSession;
  try {
    session = await ConsumeSession.open(client, {
      topics: plan.topics,
      ...(plan.pattern !== undefined ? { pattern: plan.pattern } : {}),
      subscription: plan.subscription,
      type: plan.type ?? "Exclusive",
      start: plan.start ?? { kind: plan.initialPosition },
      ...(decryptor ? { decryptor } : {}),
      ack: "downstream",
      exitAtEnd: plan.exitAtEnd,
      schema: plan.schema ?? "auto",
      source: "run",
      policy: handling.policy,
      deadLetters: handling.deadLetters,
      // In one process the terminal reports through the same socket from the start.
      noTerminalWarningMs: 0,
      log: handling.log,
    });
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  async function* items(): AsyncGenerator<Item> {
    yield session.hello()!;
    const announced = plan.announcePartitions ? session.partitionsRecord() : undefined;
    if (announced) yield announced as unknown as Item;
    for await (const envelope of session.envelopes()) {
      session.written();
      const changed = announced ? session.assignmentChanged() : undefined;
      if (changed) yield changed as unknown as Item;
      yield envelope;
    }
    // The end of the topic, said in-band so that stages can tell it from a failure upstream.
    if (session.finished) yield endRecord("consume");
  }
  return {
    items: items(),
    async close() {
      // The terminal has closed its reporter by now; take what it reported, then acknowledge.
      try {
        await session.close({ timeoutMs: 5_000, connectWithinMs: 5_000 });
      } finally {
        await client.close().catch(() => {});
      }
    },
  };
}
