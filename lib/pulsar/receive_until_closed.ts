/**
 * The async iteration every consumer offers: messages until the consumer is closed.
 *
 * @module
 */
import { ConsumerClosedError } from "./errors.ts";
import type { Message } from "./message.ts";

/** Yields `receive()` results; ends quietly when the consumer closes, rethrows anything else. */
export async function* receiveUntilClosed(
  consumer: { receive(): Promise<Message> },
): AsyncGenerator<Message> {
  for (;;) {
    let msg: Message;
    try {
      msg = await consumer.receive();
    } catch (error) {
      if (error instanceof ConsumerClosedError) return;
      throw error;
    }
    yield msg;
  }
}
