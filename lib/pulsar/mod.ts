/**
 * edgepipe's Pulsar client, in pure TypeScript over the binary protocol: producers (batching,
 * compression, partition routing, deduplication-friendly sequence ids), consumers (every
 * subscription type, acks, nacks, ack timeout, dead letters, seek), readers, token and OAuth2 auth and TLS.
 *
 * @example
 * ```ts
 * import { PulsarClient } from "./mod.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const client = new PulsarClient({ serviceUrl: "pulsar://127.0.0.1:6650" });
 *   const consumer = await client.subscribe({ topic: "orders", subscription: "audit" });
 *   const producer = await client.createProducer({ topic: "orders", compression: "ZSTD" });
 *   await producer.send({ payload: JSON.stringify({ amount: 12.5 }), key: "user-42" });
 *   const msg = await consumer.receive();
 *   consumer.ack(msg);
 *   await client.close();
 * }
 * void example;
 * ```
 *
 * @module
 */
export { type ClientOptions, type CreateProducerOptions, PulsarClient } from "./client.ts";
export {
  type AuthProvider,
  tlsAuth,
  tokenAuth,
  tokenFromSpec,
  type TokenSupplier,
  tokenSupplierFromSpec,
} from "./auth.ts";
export {
  type OAuth2Auth,
  oauth2Auth,
  type OAuth2Options,
  type OAuth2Params,
  parseOAuth2Params,
} from "./oauth2.ts";
export type { TlsOptions } from "./connection.ts";
export type { BackoffOptions } from "./backoff.ts";
export type {
  ClientStatus,
  ClientStatusListener,
  GaveUpStatus,
  ReconnectedStatus,
  ReconnectingStatus,
} from "./client_status.ts";
export {
  type BatchingType,
  type Compression,
  type ConnectionChange,
  Producer,
  type ProducerMessage,
  type ProducerOptions,
  type SendOptions,
} from "./producer.ts";
export {
  type CoordinatorOptions,
  type NewTransactionOptions,
  parseTxnId,
  Transaction,
  TransactionCoordinatorClient,
  type TransactionState,
  type TxnId,
} from "./transaction.ts";
export {
  InvalidTxnStatusError,
  TransactionConflictError,
  TransactionCoordinatorNotFoundError,
  TransactionError,
  TransactionNotFoundError,
  TransactionOutcomeUnknownError,
} from "./transaction_errors.ts";
export {
  type HashingScheme,
  type MessageProducer,
  PartitionedProducer,
} from "./partitioned_producer.ts";
export { Consumer } from "./consumer.ts";
export { MultiTopicConsumer } from "./multi_topic_consumer.ts";
export { LedgerOwners } from "./ledger_owners.ts";
export type {
  AckTarget,
  ConsumerOptions,
  DeadLetterPolicy,
  InitialPosition,
  MessageConsumer,
  SubscriptionType,
} from "./consumer_options.ts";
export { Reader, type ReaderOptions, type ReaderStartPosition } from "./reader.ts";
export { Message } from "./message.ts";
export type { VersionedSchema } from "./schema_registry.ts";
export { MessageDecodeError, type MessageDecodeErrorKind } from "./message_decode_error.ts";
export { DeadLetterError } from "./consumer_errors.ts";
export { MessageId } from "./message_id.ts";
export { parseTopic, partitionTopic, type TopicName } from "./topic_name.ts";
export {
  AuthenticationError,
  BrokerError,
  ClientClosedError,
  ConnectionError,
  ConsumerClosedError,
  InvalidArgumentError,
  MessageTooLargeError,
  ProducerClosedError,
  PulsarError,
  SERVER_ERRORS,
  type ServerErrorName,
  TimeoutError,
} from "./errors.ts";
export { ProtocolError, type Schema, type SchemaType } from "./wire/mod.ts";
export {
  type AdminOptions,
  PulsarAdmin,
  type SubscriptionBacklog,
  type TopicStats,
} from "./admin.ts";
export {
  DATA_KEY_ROTATION_MS,
  DecryptionError,
  type EncryptionFields,
  MessageDecryptor,
  MessageEncryptor,
  type RecipientKey,
  type SealedDataKey,
} from "./crypto/message_crypto.ts";
export {
  type CryptoKey,
  KeyFileError,
  parsePrivateKey,
  parsePublicKey,
  readPrivateKey,
  readPublicKey,
} from "./crypto/keys.ts";
