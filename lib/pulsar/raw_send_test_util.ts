/**
 * Sends hand-built entries to a real broker: metadata and payload exactly as given, so that tests
 * can publish what edgepipe's producer never writes (corrupt compression, encryption keys, chunks
 * out of order).
 *
 * @module
 */
import { type Command, encodePayloadCommand, type MessageMetadata } from "./wire/mod.ts";
import type { PulsarClient } from "./client.ts";
import { MessageId } from "./message_id.ts";

/** Publishes each entry as one SEND with `metadata` and `payload` unchanged; returns their ids. */
export async function sendRaw(
  client: PulsarClient,
  topic: string,
  entries: { metadata?: Partial<MessageMetadata>; payload: Uint8Array }[],
): Promise<MessageId[]> {
  // A lookup first: it is what makes the broker load the bundle of a new topic.
  const conn = await client.lookup.connectionFor(topic);
  const producerId = 900_000 + Math.floor(Math.random() * 100_000);
  const receipts: ((id: MessageId) => void)[] = [];
  conn.registerProducer(producerId, {
    onFrame(frame) {
      const command = frame.command as unknown as Record<string, unknown>;
      if (command.type !== "SEND_RECEIPT") return;
      const id = command.messageId as { ledgerId: number; entryId: number };
      receipts.shift()?.(new MessageId(BigInt(id.ledgerId), BigInt(id.entryId)));
    },
    onConnectionClosed() {},
  });
  try {
    const answer = await conn.request(
      { type: "PRODUCER", topic, producerId, epoch: 0 } as unknown as Command,
    );
    const producerName = String(
      (answer.command as unknown as Record<string, unknown>).producerName,
    );
    const ids: MessageId[] = [];
    let sequenceId = 0;
    for (const entry of entries) {
      const metadata: MessageMetadata = {
        producerName,
        sequenceId,
        publishTime: Date.now(),
        ...entry.metadata,
      };
      const received = new Promise<MessageId>((resolve) => receipts.push(resolve));
      conn.write(encodePayloadCommand(
        {
          type: "SEND",
          producerId,
          sequenceId: metadata.sequenceId,
          numMessages: metadata.numMessagesInBatch ?? 1,
        } as unknown as Command,
        metadata,
        entry.payload,
      ));
      ids.push(await received);
      sequenceId = metadata.sequenceId + 1;
    }
    await conn.request({ type: "CLOSE_PRODUCER", producerId } as unknown as Command);
    return ids;
  } finally {
    conn.unregisterProducer(producerId);
  }
}
