/**
 * A synchronous request/response channel between a thread and a Worker over shared memory, so
 * that a stage can call user code sandboxed in a Worker as if it were a function: the caller
 * blocks in `Atomics.wait` until the answer is there. Messages are JSON; one larger than the
 * buffer travels in chunks.
 *
 * ```
 * control (Int32Array over its own SharedArrayBuffer)
 *   [0] turn: 0 idle · 1 a chunk for the worker · 2 a chunk for the caller
 *             3 the worker took a chunk, send the next · 4 the caller took one, send the next
 *   [1] byte length of the chunk in the data buffer
 *   [2] 1 when more chunks of the same message follow
 * data (Uint8Array over a second SharedArrayBuffer): the chunk's UTF-8 bytes
 * ```
 *
 * @module
 */
import { concatBytes } from "../../concat_bytes.ts";

const IDLE = 0;
const TO_WORKER = 1;
const TO_CALLER = 2;
const WORKER_NEXT = 3;
const CALLER_NEXT = 4;

/** The two shared buffers of a channel (sent to the worker once, with postMessage). */
export interface ChannelBuffers {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** Makes the shared buffers; `bytes` is the chunk size. */
export function channelBuffers(bytes = 1 << 20): ChannelBuffers {
  return { control: new SharedArrayBuffer(12), data: new SharedArrayBuffer(bytes) };
}

/** The far side did not answer within the wait limit (it died, or it loops). */
export class ChannelTimeoutError extends Error {}

class End {
  readonly control: Int32Array;
  readonly data: Uint8Array;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  readonly #timeoutMs: number;

  constructor(buffers: ChannelBuffers, timeoutMs: number) {
    this.control = new Int32Array(buffers.control);
    this.data = new Uint8Array(buffers.data);
    this.#timeoutMs = timeoutMs;
  }

  /** Waits until the turn is `want`. */
  awaitTurn(want: number, timeoutMs = this.#timeoutMs): void {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const turn = Atomics.load(this.control, 0);
      if (turn === want) return;
      const left = deadline - performance.now();
      if (left <= 0) throw new ChannelTimeoutError("no answer over the channel");
      Atomics.wait(this.control, 0, turn, Math.min(left, 1000));
    }
  }

  hand(turn: number): void {
    Atomics.store(this.control, 0, turn);
    Atomics.notify(this.control, 0);
  }

  /** Sends `bytes` as chunks with `turn`; waits for `next` between chunks. */
  send(message: unknown, turn: number, next: number): void {
    const bytes = this.#encoder.encode(JSON.stringify(message));
    const size = this.data.length;
    for (let at = 0; at === 0 || at < bytes.length; at += size) {
      const chunk = bytes.subarray(at, at + size);
      this.data.set(chunk);
      this.control[1] = chunk.length;
      const more = at + size < bytes.length;
      this.control[2] = more ? 1 : 0;
      this.hand(turn);
      if (more) this.awaitTurn(next);
    }
  }

  /** Receives a message whose first chunk is there (turn `turn`); asks for more with `next`. */
  receive(turn: number, next: number): unknown {
    const parts: Uint8Array[] = [];
    for (;;) {
      parts.push(this.data.slice(0, this.control[1]));
      if (this.control[2] !== 1) break;
      this.hand(next);
      this.awaitTurn(turn);
    }
    const whole = parts.length === 1
      ? parts[0]
      : concatBytes(parts, parts.reduce((n, p) => n + p.length, 0));
    return JSON.parse(this.#decoder.decode(whole));
  }
}

/** The calling side. */
export class ChannelCaller {
  readonly #end: End;
  constructor(buffers: ChannelBuffers, timeoutMs = 60_000) {
    this.#end = new End(buffers, timeoutMs);
  }

  /** Sends a request and blocks until the answer has arrived. */
  call(request: unknown): unknown {
    const end = this.#end;
    end.send(request, TO_WORKER, WORKER_NEXT);
    end.awaitTurn(TO_CALLER);
    const answer = end.receive(TO_CALLER, CALLER_NEXT);
    end.hand(IDLE);
    return answer;
  }
}

/** The worker's side: serves requests one at a time, for ever. */
export function serveChannel(
  buffers: ChannelBuffers,
  handle: (request: unknown) => unknown,
): never {
  const end = new End(buffers, Infinity);
  for (;;) {
    end.awaitTurn(TO_WORKER, Infinity);
    const request = end.receive(TO_WORKER, WORKER_NEXT);
    let answer: unknown;
    try {
      answer = { ok: handle(request) };
    } catch (error) {
      answer = {
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    end.send(answer, TO_CALLER, CALLER_NEXT);
  }
}
