/**
 * The in-process baseline of bench/score_pulsar_bench.ts: one Deno process using the library —
 * subscribe, parse each payload, score it with the `score` stage, produce the scored envelope,
 * acknowledge the source message on the broker's receipt — for exactly `count` messages.
 *
 * ```sh
 * deno run -A bench/_client_loop.ts <service url> <topic> <subscription> <out topic> <count> <model>
 * ```
 *
 * @module
 */
import type { Envelope, Item } from "../lib/envelope.ts";
import { type Message, PulsarClient } from "../lib/pulsar/mod.ts";
import { score } from "../lib/score/score.ts";

const [serviceUrl, topic, subscription, outTopic, countText, model] = Deno.args;
const count = Number(countText);
const client = new PulsarClient({ serviceUrl });
const consumer = await client.subscribe({ topic, subscription, initialPosition: "earliest" });
const producer = await client.createProducer({ topic: outTopic, maxPendingMessages: 1000 });
// By id: the score stage hands out scored copies of the events.
const messages = new Map<string, Message>();
const decoder = new TextDecoder();
async function* events(): AsyncGenerator<Item> {
  for (let i = 0; i < count; i++) {
    const msg = await consumer.receive();
    const event: Envelope = {
      id: msg.id.toString(),
      eventTime: msg.eventTime || msg.publishTime,
      value: JSON.parse(decoder.decode(msg.payload)),
    };
    messages.set(event.id!, msg);
    yield event;
  }
}
let failed = 0;
for await (const item of score(events(), { model })) {
  const id = (item as Envelope).id!;
  const msg = messages.get(id)!;
  messages.delete(id);
  await producer.ready();
  producer.send({ payload: JSON.stringify(item) }).then(() => consumer.ack(msg), () => failed++);
}
await producer.flush();
await consumer.flushAcks();
await producer.close();
await consumer.close();
await client.close();
if (failed > 0) throw new Error(`${failed} sends failed`);
