/**
 * The Pulsar client: one per process. It owns the connection pool and the lookup service and
 * creates producers, consumers and readers, partitioned or not.
 *
 * @module
 */
import { type AuthProvider, tlsAuth, tokenAuth, type TokenSupplier } from "./auth.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { ClientContext } from "./client_context.ts";
import {
  type ClientStatus,
  ClientStatusEvents,
  type ClientStatusListener,
} from "./client_status.ts";
import type { TlsOptions } from "./connection.ts";
import { ConnectionPool } from "./connection_pool.ts";
import { Consumer, type SingleConsumerOptions } from "./consumer.ts";
import type { ConsumerOptions, MessageConsumer } from "./consumer_options.ts";
import { ClientClosedError, InvalidArgumentError } from "./errors.ts";
import { LookupService } from "./lookup.ts";
import { MessageId } from "./message_id.ts";
import { MultiTopicConsumer } from "./multi_topic_consumer.ts";
import {
  type HashingScheme,
  type MessageProducer,
  PartitionedProducer,
} from "./partitioned_producer.ts";
import { Producer, type ProducerOptions } from "./producer.ts";
import { Reader, type ReaderOptions } from "./reader.ts";
import { parseTopic, partitionTopic } from "./topic_name.ts";
import { getOrCreateSchema, getSchema, type VersionedSchema } from "./schema_registry.ts";
import type { Schema } from "./wire/mod.ts";
import { parseServiceUrls } from "./service_url.ts";
import { type CoordinatorOptions, TransactionCoordinatorClient } from "./transaction.ts";

/** Options of {@linkcode PulsarClient}. */
export interface ClientOptions {
  /**
   * `pulsar://host:6650` or `pulsar+ssl://host:6651` (a broker or a proxy), or several hosts
   * (`pulsar://h1:6650,h2:6650`) that lookups and reconnects try in turn.
   */
  serviceUrl: string;
  /** Credentials; or use `token`. With neither, a `tls.cert` means TLS authentication. */
  auth?: AuthProvider;
  /** Token authentication: the token, or a function returning a fresh one. */
  token?: TokenSupplier;
  /** TLS settings for `pulsar+ssl://` (CA, client certificate). */
  tls?: TlsOptions;
  /** Timeout of lookups, subscribes, producer creation. Default 30 000 ms. */
  operationTimeoutMs?: number;
  /** Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** PING interval. Default 30 000 ms. */
  keepAliveMs?: number;
  /** Reconnect delays. Default 100 ms doubling to 30 s. */
  backoff?: BackoffOptions;
  /** Told of every status event, as with {@linkcode PulsarClient.onStatus}. */
  onStatus?: ClientStatusListener;
}

/** Producer options plus partition routing. */
export interface CreateProducerOptions extends ProducerOptions {
  /** Key → partition hash for partitioned topics. Default "JavaStringHash" (the Java default). */
  hashingScheme?: HashingScheme;
}

/**
 * Entry point of the Pulsar client.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "./client.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const producer = await client.createProducer({ topic: "orders" });
 *   await producer.send({ payload: "hello" });
 *   await client.close();
 * }
 * void example;
 * ```
 */
export class PulsarClient {
  readonly #ctx: ClientContext;
  readonly #closers = new Set<{ close(): Promise<void> }>();
  #nextProducerId = 0;
  #nextConsumerId = 0;
  #closed = false;
  #coordinators?: Promise<TransactionCoordinatorClient>;
  readonly #status = new ClientStatusEvents();

  /** A client of the broker at `options.serviceUrl`; connects on first use. */
  constructor(readonly options: ClientOptions) {
    const url = parseServiceUrls(options.serviceUrl);
    // A client certificate without other credentials is meant as TLS authentication.
    const auth = options.auth ??
      (options.token !== undefined
        ? tokenAuth(options.token)
        : options.tls?.cert && url.tls
        ? tlsAuth()
        : undefined);
    const pool = new ConnectionPool({
      ...(auth ? { auth } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.operationTimeoutMs ? { operationTimeoutMs: options.operationTimeoutMs } : {}),
      ...(options.keepAliveMs ? { keepAliveMs: options.keepAliveMs } : {}),
    });
    const lookup = new LookupService(pool, options.serviceUrl, url.tls);
    if (options.onStatus) this.#status.on(options.onStatus);
    this.#ctx = {
      pool,
      lookup,
      operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
      backoff: options.backoff ?? {},
      reportStatus: (status) => this.#status.emit(status),
      newProducerId: () => this.#nextProducerId++,
      newConsumerId: () => this.#nextConsumerId++,
      createProducer: (o) => this.#track(Producer.create(this.#ctx, o)),
    };
  }

  /**
   * The connection pool (tests use it to cut connections).
   *
   * @internal
   */
  get pool(): ConnectionPool {
    return this.#ctx.pool;
  }

  /**
   * The lookup service (tests use it to reach the broker that serves a topic).
   *
   * @internal
   */
  get lookup(): LookupService {
    return this.#ctx.lookup;
  }

  /**
   * Calls `listener` whenever a producer, consumer or reader of this client retries
   * (`reconnecting`), is attached again (`reconnected`) or stops retrying (`gave-up`); returns a
   * function that stops it. Retries of a first attach are reported too; its final failure is
   * thrown by the call that creates the producer or consumer instead of a `gave-up`.
   *
   * @example
   * ```ts
   * import { PulsarClient } from "./client.ts";
   * const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
   * const stop = client.onStatus((s) => {
   *   if (s.type === "reconnecting") console.error(`${s.topic}: attempt ${s.attempt}`);
   * });
   * stop();
   * await client.close();
   * ```
   */
  onStatus(listener: ClientStatusListener): () => void {
    return this.#status.on(listener);
  }

  /**
   * The same events as {@linkcode PulsarClient.onStatus} as an async iterator, which ends when
   * the client closes: `for await (const s of client.status()) …`.
   */
  status(): AsyncGenerator<ClientStatus> {
    return this.#status.watch();
  }

  /** Partition names of `topic`, or `[topic]` when it is not partitioned. */
  async getPartitions(topic: string): Promise<string[]> {
    this.#checkOpen();
    const full = parseTopic(topic).full;
    const n = await this.#ctx.lookup.partitions(full);
    return n > 0 ? Array.from({ length: n }, (_, i) => partitionTopic(full, i)) : [full];
  }

  /**
   * `topic`'s schema of `version` (8 bytes, as messages carry it), or the latest without one;
   * a version the broker does not have is a `BrokerError`.
   */
  getSchema(topic: string, version?: Uint8Array): Promise<VersionedSchema> {
    this.#checkOpen();
    return getSchema(this.#ctx.lookup, parseTopic(topic).full, version);
  }

  /**
   * Registers `schema` on `topic` (an existing topic) or finds its version there, and returns the
   * version; an incompatible one is a `BrokerError` of code `IncompatibleSchema`.
   */
  getOrCreateSchema(topic: string, schema: Schema): Promise<Uint8Array> {
    this.#checkOpen();
    return getOrCreateSchema(this.#ctx.lookup, parseTopic(topic).full, schema);
  }

  /** Creates a producer; a partitioned topic gets one per partition behind a router. */
  async createProducer(options: CreateProducerOptions): Promise<MessageProducer> {
    this.#checkOpen();
    const full = parseTopic(options.topic).full;
    const n = await this.#ctx.lookup.partitions(full);
    if (n === 0) return this.#track(Producer.create(this.#ctx, { ...options, topic: full }));
    const producers = await this.#allOrClose(
      Array.from({ length: n }, (_, i) =>
        Producer.create(this.#ctx, {
          ...options,
          topic: partitionTopic(full, i),
          ...(options.producerName ? { producerName: `${options.producerName}-${i}` } : {}),
        }, i)),
    );
    return this.#track(
      Promise.resolve(
        new PartitionedProducer(
          full,
          producers,
          options.hashingScheme,
          options.batching === false ? 1 : options.batchingMaxDelayMs ?? 1,
        ),
      ),
    );
  }

  /**
   * The cluster's transaction coordinators (found and connected on the first call; needs
   * `transactionCoordinatorEnabled=true` on the broker, else TransactionCoordinatorNotFoundError).
   */
  transactions(options: CoordinatorOptions = {}): Promise<TransactionCoordinatorClient> {
    this.#checkOpen();
    this.#coordinators ??= TransactionCoordinatorClient.connect(this.#ctx, options);
    this.#coordinators.catch(() => this.#coordinators = undefined);
    return this.#coordinators;
  }

  /** Subscribes to one topic, a partitioned topic, a list of topics, or a topic pattern. */
  async subscribe(options: ConsumerOptions): Promise<MessageConsumer> {
    this.#checkOpen();
    const given = [options.topic, options.topics, options.topicsPattern].filter((t) =>
      t !== undefined
    );
    if (given.length !== 1) {
      throw new InvalidArgumentError("subscribe needs exactly one of topic, topics, topicsPattern");
    }
    if (options.topicsPattern !== undefined) return this.#subscribePattern(options);
    const topics = options.topics ?? [options.topic!];
    const partitions = (await Promise.all(topics.map((t) => this.getPartitions(t)))).flat();
    if (options.topic !== undefined && partitions.length === 1) {
      return this.#track(Consumer.create(this.#ctx, { ...options, topic: partitions[0] }));
    }
    const children = await this.#allOrClose(
      partitions.map((topic) => Consumer.create(this.#ctx, { ...options, topic })),
    );
    return this.#track(
      Promise.resolve(
        new MultiTopicConsumer(options.subscription, children, options.receiverQueueSize ?? 1000),
      ),
    );
  }

  async #subscribePattern(options: ConsumerOptions): Promise<MessageConsumer> {
    const pattern = options.topicsPattern!;
    const full = pattern.includes("://") ? pattern : `persistent://${pattern}`;
    const parsed = /^(persistent|non-persistent):\/\/([^/]+)\/([^/]+)\/(.+)$/.exec(full);
    if (!parsed) {
      throw new InvalidArgumentError(`topicsPattern '${pattern}' is not domain://tenant/ns/regex`);
    }
    const namespace = `${parsed[2]}/${parsed[3]}`;
    const regex = new RegExp(`^${full}$`);
    const mode = parsed[1] === "persistent" ? "PERSISTENT" : "NON_PERSISTENT";
    const matching = async () =>
      (await this.#ctx.lookup.topicsOfNamespace(namespace, mode)).filter((t) =>
        regex.test(t.replace(/-partition-\d+$/, ""))
      );
    const subscribeTo = (topic: string) =>
      Consumer.create(
        this.#ctx,
        { ...options, topicsPattern: undefined, topic } as SingleConsumerOptions,
      );
    const children = await this.#allOrClose((await matching()).map(subscribeTo));
    const consumer = new MultiTopicConsumer(
      options.subscription,
      children,
      options.receiverQueueSize ?? 1000,
    );
    consumer.refreshEvery(options.patternRefreshMs ?? 60_000, async () => {
      const known = new Set(consumer.topics);
      for (const topic of await matching()) {
        if (!known.has(topic)) consumer.addConsumer(await subscribeTo(topic));
      }
    });
    return this.#track(Promise.resolve(consumer));
  }

  /** Creates a reader over a topic (all partitions of a partitioned one). */
  async createReader(options: ReaderOptions): Promise<Reader> {
    this.#checkOpen();
    const partitions = await this.getPartitions(options.topic);
    const start = options.startAt;
    const afterId = typeof start === "object" && "afterMessageId" in start
      ? (typeof start.afterMessageId === "string"
        ? MessageId.parse(start.afterMessageId)
        : start.afterMessageId)
      : undefined;
    const subscription = `reader-${crypto.randomUUID().slice(0, 10)}`;
    const children = await this.#allOrClose(partitions.map((topic, index) => {
      const partition = parseTopic(topic).partition;
      let startMessageId = start === "earliest"
        ? MessageId.earliest
        : start === "latest"
        ? MessageId.latest
        : afterId ?? MessageId.earliest;
      // An id from another partition says nothing about this one: read it from the start.
      if (afterId && partitions.length > 1 && afterId.partition !== partition) {
        startMessageId = afterId.partition < 0 ? afterId : MessageId.earliest;
      }
      void index;
      return Consumer.create(this.#ctx, {
        topic,
        subscription,
        subscriptionType: "Exclusive",
        receiverQueueSize: options.receiverQueueSize ?? 1000,
        ...(options.readerName ? { consumerName: options.readerName } : {}),
        ...(options.readCompacted ? { readCompacted: true } : {}),
        ...(options.decryptor ? { decryptor: options.decryptor } : {}),
        durable: false,
        startMessageId,
        ...(typeof start === "object" && "publishTime" in start
          ? { startPublishTime: start.publishTime }
          : {}),
      });
    }));
    const merged = children.length === 1
      ? children[0]
      : new MultiTopicConsumer(subscription, children, options.receiverQueueSize ?? 1000);
    return this.#track(
      Promise.resolve(new Reader(parseTopic(options.topic).full, children, merged)),
    );
  }

  /** Closes every producer, consumer and reader, then the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#closers].map((c) => c.close()));
    await this.#ctx.pool.close();
    this.#status.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClientClosedError("the Pulsar client is closed");
  }

  async #track<T extends { close(): Promise<void> }>(created: Promise<T>): Promise<T> {
    const value = await created;
    this.#closers.add(value);
    const close = value.close.bind(value);
    value.close = () => {
      this.#closers.delete(value);
      return close();
    };
    return value;
  }

  /** Creates all, or closes the ones that worked and rethrows the first failure. */
  async #allOrClose<T extends { close(): Promise<void> }>(creating: Promise<T>[]): Promise<T[]> {
    const settled = await Promise.allSettled(creating);
    const failed = settled.find((s) => s.status === "rejected") as
      | PromiseRejectedResult
      | undefined;
    if (failed) {
      await Promise.allSettled(
        settled.flatMap((s) => (s.status === "fulfilled" ? [s.value.close()] : [])),
      );
      throw failed.reason;
    }
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }
}
