/**
 * The consume source, as `edgepipe consume` and a pipeline file's `consume:` source both run it:
 * a subscription (or reader) read as envelopes, payloads that cannot be decoded handled by the
 * error policy, and, with downstream acknowledgements, an ack socket where the terminal stage
 * reports what it delivered; only those messages are acknowledged at the broker. Messages written
 * and not yet reported are held (as payload-free handles) within a bound: at the bound reading
 * waits for reports (backpressure), said once in the log.
 *
 * @module
 */
import { deadLetterOf, type DeadLetterSink, type ErrorPolicy } from "../../dead_letter.ts";
import { AckServer, type TerminalWait } from "../../delivery/ack_server.ts";
import type { ControlRecord, Envelope, HelloRecord } from "../../envelope.ts";
import { describeError } from "../../errors.ts";
import type { Message, PulsarClient } from "../../pulsar/mod.ts";
import { EndOfTopic } from "../end_of_topic.ts";
import {
  baseTopic,
  messageEnvelope,
  type PayloadDecoding,
  PayloadError,
  splitPartition,
} from "../message_envelope.ts";
import { SchemaError } from "../../schema/errors.ts";
import { type SchemaLookup, TopicSchemas, withFallback } from "../../schema/topic_schemas.ts";
import type { PartitionsRecord } from "../../partitions_record.ts";
import { type ConsumeReceiver, openReceiver, type ReceiverOptions } from "./open_receiver.ts";
import { Unreported } from "./unreported.ts";
import { TxnIntervals } from "./txn_intervals.ts";
import { UsageError } from "../../errors.ts";

/** When a message is acknowledged (see `docs/delivery.md`). */
export type AckMode = "downstream" | "on-write" | "none";

/** Counts for metrics and stats lines; each is optional. */
export interface ConsumeObserver {
  /** A message came from the broker. */
  received?(): void;
  /** A message was acknowledged at the broker. */
  acknowledged?(): void;
  /** A payload that could not be decoded (skipped, dead-lettered, or about to fail). */
  undecodable?(): void;
}

/** Options of {@linkcode ConsumeSession.open}. */
export interface ConsumeSessionOptions extends ReceiverOptions {
  /** When messages are acknowledged. */
  ack: AckMode;
  /** Stop at the end of the topic(s). */
  exitAtEnd?: boolean;
  /** Stop after this many messages. */
  limit?: number;
  /** How payloads become `value` (default json). */
  payload?: PayloadDecoding;
  /**
   * `auto` (default): a message written with a schema version is decoded with that schema
   * (looked up from the broker, cached); `none`: payloads as `payload` says, schema or not.
   */
  schema?: "auto" | "none";
  /** Where schemas come from when GET_SCHEMA fails without the broker's answer (admin REST). */
  schemaFallback?: SchemaLookup;
  /** For payloads that cannot be decoded (default fail). */
  policy?: ErrorPolicy;
  /** Where `dead-letter=` sends them (opened and closed by the caller). */
  deadLetters?: DeadLetterSink;
  /** The `source` of the hello record (default `consume`). */
  source?: string;
  /** Bounds of the messages written and not yet reported (downstream acknowledgements). */
  maxUnreported?: { messages?: number; bytes?: number };
  /**
   * JSON payloads stay their text (a `RawJson` value) where that serialises the same, for an
   * output that only writes the envelopes (`consume` to stdout); stages that read values need
   * them decoded (the default).
   */
  keepJsonText?: boolean;
  /** Keep each envelope's message for {@linkcode ConsumeSession.messageOf} (`-f`, on-write). */
  keepMessages?: boolean;
  /** Warn when no terminal stage has connected after this long, ms (default 10 s; 0: never). */
  noTerminalWarningMs?: number;
  /** Where notices go, without a prefix. */
  log: (message: string) => void;
  /** Counts for metrics. */
  observer?: ConsumeObserver;
  /**
   * "exactly-once": downstream acknowledgements inside Pulsar transactions, one per interval,
   * announced in-band (see `txn_intervals.ts`). Default "at-least-once".
   */
  guarantee?: "at-least-once" | "exactly-once";
  /** Exactly-once: how long a transaction interval lasts (default 1 s). */
  txnIntervalMs?: number;
  /** Exactly-once: the transaction timeout (default 60 s). */
  txnTimeoutMs?: number;
}

/** How long {@linkcode ConsumeSession.close} waits for the terminal stage. */
export interface TerminalWaitLimits {
  /** For the terminal's last reports once it has connected. */
  timeoutMs: number;
  /** For a terminal that never connected to connect at all. */
  connectWithinMs: number;
}

/**
 * One consume source. `envelopes()` yields the messages as envelopes; the caller writes the
 * session's `hello()` first and, once `finished`, the end record last.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "../../pulsar/mod.ts";
 * import { ConsumeSession } from "./consume_session.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const session = await ConsumeSession.open(client, {
 *     topics: ["flights"],
 *     subscription: "copy",
 *     ack: "downstream",
 *     exitAtEnd: true,
 *     log: console.error,
 *   });
 *   console.log(JSON.stringify(session.hello()));
 *   for await (const envelope of session.envelopes()) console.log(JSON.stringify(envelope));
 *   await session.close({ timeoutMs: 30_000, connectWithinMs: 5_000 });
 *   await client.close();
 * }
 * void example;
 * ```
 */
export class ConsumeSession {
  readonly #receiver: ConsumeReceiver;
  /** The partitions of the last `partitions` record, joined (undefined: none written). */
  #announced: string | undefined;
  readonly #options: ConsumeSessionOptions;
  readonly #server: AckServer | undefined;
  readonly #unreported: Unreported | undefined;
  readonly #messages = new WeakMap<Envelope, Message>();
  readonly #schemas: TopicSchemas | undefined;
  #finished = false;
  #acked = 0;
  #written = 0;
  #noTerminal: ReturnType<typeof setTimeout> | undefined;
  #intervals?: TxnIntervals;
  #endSince?: number;
  readonly #seen = new Set<string>();
  #twice = 0;
  #toldWaiting = false;
  #control?: (record: ControlRecord) => Promise<void>;

  private constructor(
    receiver: ConsumeReceiver,
    options: ConsumeSessionOptions,
    server: AckServer | undefined,
    unreported: Unreported | undefined,
    schemas: TopicSchemas | undefined,
  ) {
    this.#schemas = schemas;
    this.#receiver = receiver;
    this.#options = options;
    this.#server = server;
    this.#unreported = unreported;
  }

  /** Subscribes (or opens a reader) and, for downstream acknowledgements, the ack socket. */
  static async open(
    client: PulsarClient,
    options: ConsumeSessionOptions,
  ): Promise<ConsumeSession> {
    const receiver = await openReceiver(client, options);
    const schemas = options.schema === "none" ? undefined : new TopicSchemas(
      withFallback((topic, version) => client.getSchema(topic, version), options.schemaFallback),
    );
    if (options.ack !== "downstream") {
      return new ConsumeSession(receiver, options, undefined, undefined, schemas);
    }
    const unreported = new Unreported({
      maxMessages: options.maxUnreported?.messages,
      maxBytes: options.maxUnreported?.bytes,
      onFull: ({ messages }) =>
        options.log(
          `${messages} message(s) written and not yet reported delivered by the terminal stage: ` +
            `reading waits for its reports (a stage that holds events, such as a window without ` +
            `checkpoints, may need a larger --max-unreported)`,
        ),
    });
    // The session acknowledges what the terminal reports; it exists once the socket does.
    const opened: { session?: ConsumeSession } = {};
    let server: AckServer;
    try {
      server = await AckServer.listen({
        source: options.source ?? "consume",
        onAck: (id) => opened.session!.#reported(id),
      });
    } catch (error) {
      await receiver.close().catch(() => {});
      throw error;
    }
    const session = opened.session = new ConsumeSession(
      receiver,
      options,
      server,
      unreported,
      schemas,
    );
    if (options.guarantee === "exactly-once") {
      try {
        await session.#startTransactions(client, receiver);
      } catch (error) {
        await server.close().catch(() => {});
        await receiver.close().catch(() => {});
        throw error;
      }
    }
    return session;
  }

  async #startTransactions(client: PulsarClient, receiver: ConsumeReceiver): Promise<void> {
    const acker = receiver.ackInTransaction;
    if (!acker) throw new UsageError("--guarantee exactly-once needs a subscription (-s)");
    const coordinator = await client.transactions();
    this.#intervals = new TxnIntervals({
      coordinator,
      acker: { ackInTransaction: (target, txn) => acker.call(receiver, target, txn) },
      intervalMs: this.#options.txnIntervalMs ?? 1000,
      timeoutMs: this.#options.txnTimeoutMs ?? 60_000,
      emit: (record) => {
        if (!this.#control) throw new Error("exactly-once: no writer for control records");
        return this.#control(record);
      },
      onFatal: (error) => {
        this.#options.log(`stopping: ${describeError(error)}`);
        // A receive that waits would never see the failure: end it.
        void this.#receiver.close().catch(() => {});
      },
      onCommitted: (n) => {
        this.#acked += n;
        for (let i = 0; i < n; i++) this.#options.observer?.acknowledged?.();
      },
    });
  }

  /**
   * Where control records the session writes mid-stream go (exactly-once: the `txn` records), in
   * order with the envelopes. Set it before reading `envelopes()`.
   */
  set controlWriter(write: (record: ControlRecord) => Promise<void>) {
    this.#control = write;
  }

  /** The reported id: acknowledged at once, or inside its transaction under exactly-once. */
  #reported(id: string): void {
    const handle = this.#unreported!.take(id);
    if (this.#intervals) {
      if (!this.#intervals.reported(id, handle)) {
        this.#options.log(`ignored a report of ${id}: not a message this run wrote`);
      }
      return;
    }
    this.ack(handle ?? id);
  }

  /** The hello record to write first (downstream acknowledgements only). */
  hello(): HelloRecord | undefined {
    return this.#server?.hello();
  }

  /**
   * The `partitions` control record (docs/envelope.md): every topic and partition this session
   * reads, as its envelopes name them, so that a window stage behind knows whose watermarks to
   * wait for before the first event of each arrives. Undefined for a pattern subscription.
   */
  partitionsRecord(): PartitionsRecord | undefined {
    const topics = this.#receiver.activeTopics ?? this.#receiver.topics;
    if (topics === undefined) return undefined;
    this.#announced = topics.join("\n");
    return { $edgepipe: "partitions", partitions: topics.map(splitPartition) };
  }

  /**
   * A new `partitions` record when the partitions that come here changed since the last one (on
   * a Failover subscription, when the broker made this consumer active or standby for some), else
   * undefined. Cheap: called before each envelope.
   */
  assignmentChanged(): PartitionsRecord | undefined {
    if (this.#announced === undefined) return undefined;
    const active = this.#receiver.activeTopics;
    if (active === undefined || active.join("\n") === this.#announced) return undefined;
    return this.partitionsRecord();
  }

  /** True once the input really ended: the end of the topic with `exitAtEnd`, or `limit` reached. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Messages acknowledged at the broker so far. */
  get acknowledged(): number {
    return this.#acked;
  }

  /** Messages held until the terminal stage reports them. */
  get unreported(): number {
    return this.#unreported?.size ?? 0;
  }

  /** The message behind an envelope, with `keepMessages`. */
  messageOf(envelope: Envelope): Message | undefined {
    return this.#messages.get(envelope);
  }

  /** Tells the session that an envelope left the process (starts the no-terminal warning). */
  written(): void {
    if (this.#written++ > 0 || !this.#server) return;
    const ms = this.#options.noTerminalWarningMs ?? 10_000;
    if (ms <= 0) return;
    const server = this.#server;
    // `| cat > file` never reports anything: say so rather than stall silently.
    this.#noTerminal = setTimeout(() => {
      if (server.everConnected) return;
      this.#options.log(
        `warning: no terminal stage has connected to the ack channel in ${ms / 1000} s, so ` +
          `nothing is acknowledged (end the pipe with produce or sink, or use --ack on-write)`,
      );
    }, ms);
    Deno.unrefTimer(this.#noTerminal as unknown as number);
  }

  /** Acknowledges a message (or an id) at the broker; a failure is logged, not thrown. */
  ack(target: Message | string): void {
    try {
      this.#receiver.ack!(target);
      this.#acked++;
      this.#options.observer?.acknowledged?.();
    } catch (err) {
      const id = typeof target === "string" ? target : target.id.toString();
      this.#options.log(`cannot acknowledge ${id}: ${describeError(err)}`);
    }
  }

  /**
   * Waits for room under the bound of unreported messages; false when the terminal stage that
   * connected has gone (all its connections closed), so no report can come any more: reading stops
   * there (no end record: downstream stages see an upstream failure) and what was not reported is
   * redelivered after a restart. Polls the channel every 500 ms while it waits.
   */
  async #roomOrTerminalGone(): Promise<boolean> {
    const unreported = this.#unreported!;
    const server = this.#server;
    const room = unreported.room().then(() => true);
    while (unreported.full) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 500)));
      const got = await Promise.race([room, tick]);
      clearTimeout(timer);
      if (got) return true;
      if (server && server.everConnected && server.connections === 0) {
        this.#options.log(
          "the terminal stage disconnected while reading waited for its reports: stopping; " +
            "what it did not report is redelivered",
        );
        return false;
      }
    }
    return true;
  }

  /** The messages as envelopes, until the end (with `exitAtEnd`), `limit`, or the caller stops. */
  async *envelopes(): AsyncGenerator<Envelope> {
    const o = this.#options;
    const limit = o.limit ?? Infinity;
    // Exactly-once decides the end by the broker's acknowledgements (#settledAtEnd): a receive
    // that waits for "more" must not wait forever.
    const end = o.exitAtEnd
      ? await EndOfTopic.start(this.#receiver, 2000, this.#intervals !== undefined)
      : undefined;
    let count = 0;
    while (count < limit) {
      // At the bound, wait for the terminal's reports before taking more from the broker.
      if (this.#unreported?.full && !(await this.#roomOrTerminalGone())) return;
      let msg: Message | undefined;
      try {
        msg = end ? await end.next() : await this.#receiver.receive();
      } catch (error) {
        throw this.#intervals?.failure?.error ?? error;
      }
      if (!msg) {
        if (end && this.#intervals && !(await this.#settledAtEnd())) continue;
        this.#finished = end !== undefined;
        return;
      }
      // Messages after an apparent end (a dead run's, delivered again): its wait starts anew.
      this.#endSince = undefined;
      o.observer?.received?.();
      const envelope = await this.#decode(msg);
      if (!envelope) continue;
      if (this.#intervals && this.#once(envelope.id!)) continue;
      if (o.keepMessages) this.#messages.set(envelope, msg);
      if (o.ack === "downstream") this.#unreported!.add(envelope.id!, msg);
      if (this.#intervals) {
        await this.#intervals.beforeMessage();
        this.#intervals.written(envelope.id!, msg);
      }
      count++;
      yield envelope;
    }
    this.#finished = true;
  }

  /**
   * Exactly-once at the end of the topic: once this run's transactions have committed, the end is
   * real only when the broker holds nothing unacknowledged. Messages acknowledged inside a
   * transaction of a process that died come again when the broker times it out; until then (at
   * most the transaction timeout and a margin) the source waits for them. False: read on.
   */
  async #settledAtEnd(): Promise<boolean> {
    const o = this.#options;
    const limit = (o.txnTimeoutMs ?? 60_000) + 15_000;
    this.#endSince ??= Date.now();
    await this.#intervals!.settle(this.#endSince + limit);
    if (!this.#receiver.allAcknowledged || await this.#receiver.allAcknowledged()) return true;
    if (Date.now() - this.#endSince > limit) {
      o.log("at the end of the topic, messages are still unacknowledged by others; stopping");
      return true;
    }
    if (!this.#toldWaiting) {
      this.#toldWaiting = true;
      o.log(
        "at the end of the topic, some messages are held by a transaction that has not ended " +
          "(a previous run's): waiting for the broker to time it out and deliver them again",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
    return false;
  }

  /**
   * Exactly-once: true for a message this run already wrote (the broker can deliver an entry
   * again, e.g. when a dead predecessor's transaction is aborted while this run reads): its
   * first copy's results and acknowledgement are on their way in a transaction, a second copy
   * would be a duplicate. Remembers the last million ids.
   */
  #once(id: string): boolean {
    if (this.#seen.has(id)) {
      if (this.#twice++ === 0) this.#options.log(`skipped ${id}: delivered again in this run`);
      return true;
    }
    this.#seen.add(id);
    if (this.#seen.size > 1_000_000) this.#seen.delete(this.#seen.values().next().value!);
    return false;
  }

  /** The envelope of a message, or undefined when the error policy took it. */
  async #decode(msg: Message): Promise<Envelope | undefined> {
    const o = this.#options;
    try {
      // A message the client could not decode (decompress, decrypt, reassemble) carries why.
      const decodeError = (msg as { decodeError?: Error }).decodeError;
      if (decodeError) throw new PayloadError(decodeError.message, { cause: decodeError });
      let decoded = this.#schemas?.decode(msg, baseTopic(msg.topic));
      if (decoded instanceof Promise) decoded = await decoded;
      return messageEnvelope(msg, o.payload ?? "json", decoded, o.keepJsonText);
    } catch (caught) {
      const err = caught instanceof SchemaError
        ? new PayloadError(caught.message, { cause: caught })
        : caught;
      if (!(err instanceof PayloadError)) throw err;
      o.observer?.undecodable?.();
      const located = new PayloadError(
        `message ${msg.id.toString()} on ${msg.topic}: ${err.message}`,
        { cause: err },
      );
      const policy = o.policy ?? { kind: "fail" };
      if (policy.kind === "fail") throw located;
      if (policy.kind === "dead-letter" && o.deadLetters) {
        await o.deadLetters.write(deadLetterOf("consume", located, messageEnvelope(msg, "base64")));
      } else o.log(`skipped: ${located.message}`);
      if (this.#intervals) {
        // Acknowledged inside the interval's transaction, like a delivered message.
        const id = `undecodable:${msg.topic}:${msg.id.toString()}`;
        await this.#intervals.beforeMessage();
        this.#intervals.written(id, msg);
        this.#intervals.reported(id, msg);
      } else if (o.ack !== "none") this.ack(msg);
      return undefined;
    }
  }

  /**
   * Stops: with downstream acknowledgements, waits for the terminal stage to report the rest
   * (call it after closing the output, so that the terminal sees the end), then acknowledges what
   * was reported and closes the subscription. Returns how the wait ended.
   */
  async close(wait?: TerminalWaitLimits): Promise<TerminalWait | undefined> {
    clearTimeout(this.#noTerminal);
    this.#unreported?.release();
    let outcome: TerminalWait | undefined;
    try {
      if (this.#server) {
        outcome = await this.#server.waitForTerminal(
          wait?.timeoutMs ?? 5_000,
          wait?.connectWithinMs ?? wait?.timeoutMs ?? 5_000,
        );
        await this.#server.close();
      }
      if (this.#intervals) {
        const { aborted } = await this.#intervals.finish();
        if (aborted > 0) {
          this.#options.log(
            `${aborted} message(s) in transactions not complete at exit were rolled back ` +
              `(aborted): they are delivered again`,
          );
        }
      }
    } finally {
      await this.#receiver.flushAcks?.().catch(() => {});
      await this.#receiver.close().catch(() => {});
    }
    return outcome;
  }
}
