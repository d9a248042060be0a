/**
 * The `consume` source of a pipeline file: a Pulsar subscription read in-process. It works as
 * `edgepipe consume` does in a shell pipe: the first item is a `hello` record naming an ack socket,
 * the terminal delivery reports delivered ids there (in the same process), and only those
 * messages are acknowledged at the broker. What was not acknowledged when the process stops is
 * redelivered to the subscription later.
 *
 * @module
 */
import { AckServer } from "../delivery/ack_server.ts";
import { endRecord, type Item } from "../envelope.ts";
import { describeError } from "../errors.ts";
import { type Message, type MessageConsumer, PulsarClient } from "../pulsar/mod.ts";
import { EndOfTopic, type Receiver } from "../sources/end_of_topic.ts";
import { messageEnvelope, PayloadError } from "../sources/message_envelope.ts";
import { clientOptions } from "../sources/pulsar_connect.ts";
import type { SourcePlan } from "./plan.ts";
import type { PipelineSource } from "./sources.ts";

/** Connects, subscribes and listens for acknowledgements. */
export async function openConsumeSource(
  plan: Extract<SourcePlan, { kind: "consume" }>,
  log: (message: string) => void,
): Promise<PipelineSource> {
  const client = new PulsarClient(await clientOptions({ "service-url": plan.serviceUrl }));
  let consumer: MessageConsumer;
  try {
    consumer = await client.subscribe({
      ...(plan.topics.length === 1 ? { topic: plan.topics[0] } : { topics: plan.topics }),
      subscription: plan.subscription,
      initialPosition: plan.initialPosition,
    });
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  // The message behind each id not yet reported: acknowledging it spares parsing the id back.
  const unreported = new Map<string, Message>();
  const acks = await AckServer.listen({
    source: "run",
    onAck: (id) => {
      const msg = unreported.get(id);
      if (msg) unreported.delete(id);
      try {
        consumer.ack(msg ?? id);
      } catch (err) {
        log(`cannot acknowledge ${id}: ${describeError(err)}`);
      }
    },
  });
  const receiver = consumer as unknown as Receiver;
  async function* items(): AsyncGenerator<Item> {
    yield acks.hello();
    const end = plan.exitAtEnd ? await EndOfTopic.start(receiver, 2000) : undefined;
    while (true) {
      const msg = end ? await end.next() : await consumer.receive();
      if (!msg) break;
      if (msg.decodeError) {
        throw new PayloadError(
          `message ${msg.id.toString()} on ${msg.topic}: ${msg.decodeError.message}`,
        );
      }
      const envelope = messageEnvelope(msg, "json");
      unreported.set(envelope.id!, msg);
      yield envelope;
    }
    // The end of the topic, said in-band so that stages can tell it from a failure upstream.
    if (end) yield endRecord("consume");
  }
  return {
    items: items(),
    async close() {
      // The terminal has closed its reporter by now; take what it reported, then acknowledge.
      await acks.waitForTerminal(5_000);
      await acks.close();
      await consumer.flushAcks().catch(() => {});
      await consumer.close().catch(() => {});
      await client.close().catch(() => {});
    },
  };
}
