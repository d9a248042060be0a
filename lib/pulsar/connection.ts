/**
 * One TCP (or TLS) connection to a Pulsar broker: the CONNECT handshake, keep-alive both ways,
 * request ids with timeouts, dispatch of pushed commands to the producer or consumer they name,
 * and write coalescing (frames queued while a write is in flight go out in one socket write).
 *
 * @module
 */
import {
  type Command,
  encodeCommand,
  type Frame,
  FrameDecoder,
  PROTOCOL_VERSION,
} from "./wire/mod.ts";
import type { AuthProvider } from "./auth.ts";
import { AuthenticationError, BrokerError, ConnectionError, TimeoutError } from "./errors.ts";
import { VERSION } from "./version.ts";

/** TLS settings for `pulsar+ssl://` URLs. */
export interface TlsOptions {
  /** PEM of CA certificates that sign the broker's certificate (default: system roots). */
  caCerts?: string[];
  /** PEM client certificate chain, for mutual TLS. */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** Name to verify in the broker's certificate (default: the URL's host). */
  hostname?: string;
}

/** Options of {@linkcode Connection.open}. */
export interface ConnectionOptions {
  /** `pulsar://host:port` or `pulsar+ssl://host:port`. */
  url: string;
  /** Broker to reach through a proxy at `url` (CONNECT `proxy_to_broker_url`). */
  proxyToBrokerUrl?: string;
  auth?: AuthProvider;
  tls?: TlsOptions;
  /** Give up on TCP connect + handshake after this long. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Default timeout of a request. Default 30 000 ms. */
  operationTimeoutMs?: number;
  /** PING interval; a broker silent for two intervals is declared dead. Default 30 000 ms. */
  keepAliveMs?: number;
}

/** Receives the commands a broker pushes to one producer or consumer, and the connection's end. */
export interface ConnectionListener {
  onFrame(frame: Frame): void;
  onConnectionClosed(error: ConnectionError): void;
}

interface PendingRequest {
  resolve(frame: Frame): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  what: string;
}

/** A command as it is written: any member of the wire union. */
type AnyCommand = Record<string, unknown>;

const PRODUCER_COMMANDS = new Set([
  "SEND_RECEIPT",
  "SEND_ERROR",
  "CLOSE_PRODUCER",
  "TOPIC_MIGRATED",
]);
const CONSUMER_COMMANDS = new Set([
  "MESSAGE",
  "ACTIVE_CONSUMER_CHANGE",
  "CLOSE_CONSUMER",
  "REACHED_END_OF_TOPIC",
]);

/**
 * A live, handshaken connection. Get one from the pool rather than opening your own.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * // Needs a running broker: type-checked here, not run.
 * async function example() {
 *   const conn = await Connection.open({ url: "pulsar://127.0.0.1:6650" });
 *   const reply = await conn.request({
 *     type: "PARTITIONED_METADATA",
 *     topic: "persistent://public/default/t",
 *     requestId: 0, // replaced by a fresh id
 *   });
 *   console.log(reply.command.type);
 *   conn.close();
 * }
 * void example;
 * ```
 */
export class Connection {
  /** Largest message the broker accepts (from CONNECTED). */
  maxMessageSize = 5 * 1024 * 1024;
  /** Protocol version the broker speaks. */
  protocolVersion = 0;
  /** Broker version string. */
  serverVersion = "";
  /** Resolves when the connection is closed, with the reason. */
  readonly closed: Promise<ConnectionError>;

  readonly #conn: Deno.Conn;
  readonly #options: ConnectionOptions;
  // Brokers may raise maxMessageSize above the 5 MiB default; accept frames up to 128 MiB.
  readonly #decoder = new FrameDecoder({ maxFrameSize: 128 * 1024 * 1024 });
  readonly #pending = new Map<number, PendingRequest>();
  readonly #producers = new Map<number, ConnectionListener>();
  readonly #consumers = new Map<number, ConnectionListener>();
  #nextRequestId = 1;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  #closeError?: ConnectionError;
  #resolveClosed!: (error: ConnectionError) => void;
  #lastReceivedAt = Date.now();
  #keepAlive?: ReturnType<typeof setInterval>;
  #handshake?: { resolve(frame: Frame): void; reject(error: Error): void };

  private constructor(conn: Deno.Conn, options: ConnectionOptions) {
    this.#conn = conn;
    this.#options = options;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** Opens a socket to `url` and completes the CONNECT handshake. */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const url = parseServiceUrl(options.url);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`connecting to ${options.url} took over ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const socketPromise = connectSocket(url, options.tls);
    let connection: Connection | undefined;
    try {
      const socket = await Promise.race([socketPromise, timeout]);
      (socket as Partial<Deno.TcpConn>).setNoDelay?.(true);
      connection = new Connection(socket, options);
      await Promise.race([connection.#handshakeNow(), timeout]);
      return connection;
    } catch (cause) {
      // A socket that arrives after the timeout must not leak.
      socketPromise.then((s) => (connection ? undefined : s.close())).catch(() => {});
      if (connection) {
        connection.#destroy(new ConnectionError(`handshake with ${options.url} failed`, { cause }));
      }
      if (cause instanceof TimeoutError || cause instanceof BrokerError) throw cause;
      if (cause instanceof AuthenticationError) throw cause;
      throw new ConnectionError(`cannot connect to ${options.url}`, { cause });
    } finally {
      clearTimeout(timer);
    }
  }

  async #handshakeNow(): Promise<void> {
    this.#readLoop();
    const auth = this.#options.auth;
    const connected = new Promise<Frame>((resolve, reject) => {
      this.#handshake = { resolve, reject };
    });
    this.send({
      type: "CONNECT",
      clientVersion: `edgepipe-${VERSION}`,
      protocolVersion: PROTOCOL_VERSION,
      ...(auth ? { authMethodName: auth.methodName, authData: await auth.authData() } : {}),
      ...(this.#options.proxyToBrokerUrl
        ? { proxyToBrokerUrl: stripScheme(this.#options.proxyToBrokerUrl) }
        : {}),
      featureFlags: { supportsAuthRefresh: true },
    } as Command);
    const frame = await connected;
    const command = frame.command as unknown as AnyCommand;
    this.protocolVersion = Number(command.protocolVersion ?? 0);
    this.serverVersion = String(command.serverVersion ?? "");
    if (command.maxMessageSize) this.maxMessageSize = Number(command.maxMessageSize);
    const keepAliveMs = this.#options.keepAliveMs ?? 30_000;
    this.#keepAlive = setInterval(() => this.#checkAlive(keepAliveMs), keepAliveMs);
  }

  /** True until the connection closes. */
  get isOpen(): boolean {
    return this.#closeError === undefined;
  }

  /** The broker URL this connection was opened to. */
  get url(): string {
    return this.#options.url;
  }

  /** Takes a fresh request id. */
  newRequestId(): number {
    return this.#nextRequestId++;
  }

  /** Queues an encoded command without waiting for an answer. */
  send(command: Command): void {
    this.write(encodeCommand(command));
  }

  /** Queues encoded frame bytes; frames queued together leave in one socket write. */
  write(bytes: Uint8Array): void {
    if (this.#closeError) return; // listeners learn about the close through onConnectionClosed
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => this.#flushWrites());
    }
  }

  /** Bytes queued but not yet handed to the socket (producers use it to pace themselves). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  async #flushWrites(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closeError) {
        const frames = this.#queue;
        const size = this.#queuedBytes;
        this.#queue = [];
        this.#queuedBytes = 0;
        let chunk: Uint8Array;
        if (frames.length === 1) chunk = frames[0];
        else {
          chunk = new Uint8Array(size);
          let offset = 0;
          for (const frame of frames) {
            chunk.set(frame, offset);
            offset += frame.length;
          }
        }
        for (let offset = 0; offset < chunk.length;) {
          offset += await this.#conn.write(chunk.subarray(offset));
        }
      }
    } catch (cause) {
      this.#destroy(new ConnectionError(`writing to ${this.url} failed`, { cause }));
    } finally {
      this.#writing = false;
    }
  }

  /**
   * Sends a command that carries a `requestId` (set here) and resolves with the broker's answer.
   * Rejects with {@linkcode BrokerError} when the broker answers with an error, with
   * {@linkcode TimeoutError} after `timeoutMs`, and with {@linkcode ConnectionError} when the
   * connection closes first.
   */
  request(command: Command, timeoutMs?: number): Promise<Frame> {
    if (this.#closeError) return Promise.reject(this.#closeError);
    const requestId = this.newRequestId();
    const what = `${command.type} ${describeTarget(command as unknown as AnyCommand)}`.trim();
    const limit = timeoutMs ?? this.#options.operationTimeoutMs ?? 30_000;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new TimeoutError(`${what}: no answer from ${this.url} within ${limit} ms`));
      }, limit);
      this.#pending.set(requestId, { resolve, reject, timer, what });
      this.send({ ...command, requestId } as Command);
    });
  }

  /** Routes commands for `producerId` to `listener`. */
  registerProducer(producerId: number, listener: ConnectionListener): void {
    this.#producers.set(producerId, listener);
  }

  /** Stops routing to a producer. */
  unregisterProducer(producerId: number): void {
    this.#producers.delete(producerId);
  }

  /** Routes commands for `consumerId` to `listener`. */
  registerConsumer(consumerId: number, listener: ConnectionListener): void {
    this.#consumers.set(consumerId, listener);
  }

  /** Stops routing to a consumer. */
  unregisterConsumer(consumerId: number): void {
    this.#consumers.delete(consumerId);
  }

  /** Producers and consumers that still use this connection. */
  get users(): number {
    return this.#producers.size + this.#consumers.size;
  }

  /** Closes the socket; every pending request and every listener gets a retriable error. */
  close(reason = "connection closed by the client"): void {
    this.#destroy(new ConnectionError(reason));
  }

  /** Drops the socket under the client, as a network failure would (for recovery tests). */
  simulateNetworkFailure(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  #checkAlive(keepAliveMs: number): void {
    if (Date.now() - this.#lastReceivedAt > 2 * keepAliveMs) {
      this.#destroy(new ConnectionError(`${this.url} stopped answering keep-alive pings`));
    } else {
      this.send({ type: "PING" } as Command);
    }
  }

  async #readLoop(): Promise<void> {
    let error: ConnectionError;
    try {
      // One read buffer for the connection's life; the decoder gets a copy of just the bytes
      // read, since frames it returns may point into them.
      const buffer = new Uint8Array(256 * 1024);
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) {
          error = new ConnectionError(`${this.url} closed the connection`);
          break;
        }
        this.#lastReceivedAt = Date.now();
        for (const frame of this.#decoder.push(buffer.slice(0, n))) this.#dispatch(frame);
        if (this.#closeError) return;
      }
    } catch (cause) {
      if (this.#closeError) return;
      error = new ConnectionError(`reading from ${this.url} failed`, { cause });
    }
    this.#destroy(error);
  }

  #dispatch(frame: Frame): void {
    const command = frame.command as unknown as AnyCommand;
    const type = command.type as string;
    if (PRODUCER_COMMANDS.has(type)) {
      this.#producers.get(Number(command.producerId))?.onFrame(frame);
      return;
    }
    if (CONSUMER_COMMANDS.has(type)) {
      this.#consumers.get(Number(command.consumerId))?.onFrame(frame);
      return;
    }
    switch (type) {
      case "PING":
        this.send({ type: "PONG" } as Command);
        return;
      case "PONG":
        return;
      case "CONNECTED":
        this.#handshake?.resolve(frame);
        this.#handshake = undefined;
        return;
      case "AUTH_CHALLENGE":
        this.#answerChallenge();
        return;
      case "ERROR":
        // Refused before CONNECTED (bad credentials): the answer carries no request of ours.
        if (this.#handshake) {
          this.#handshake.reject(BrokerError.from(command.error, command.message, "CONNECT"));
          this.#handshake = undefined;
          return;
        }
    }
    if (command.requestId !== undefined) {
      const pending = this.#pending.get(Number(command.requestId));
      if (!pending) return; // answered after its timeout
      // A producer waiting for exclusive access gets a second PRODUCER_SUCCESS when it has it;
      // that wait has no time limit.
      if (type === "PRODUCER_SUCCESS" && command.producerReady === false) {
        clearTimeout(pending.timer);
        return;
      }
      this.#pending.delete(Number(command.requestId));
      clearTimeout(pending.timer);
      const failure = responseError(command, pending.what);
      if (failure) pending.reject(failure);
      else pending.resolve(frame);
    }
  }

  async #answerChallenge(): Promise<void> {
    const auth = this.#options.auth;
    if (!auth) {
      this.#destroy(new ConnectionError("broker sent AUTH_CHALLENGE but no credentials are set"));
      return;
    }
    try {
      const data = await auth.authData({ refresh: true });
      this.send({
        type: "AUTH_RESPONSE",
        clientVersion: `edgepipe-${VERSION}`,
        protocolVersion: PROTOCOL_VERSION,
        response: { authMethodName: auth.methodName, authData: data },
      } as Command);
    } catch (cause) {
      this.#destroy(new ConnectionError("could not answer the broker's AUTH_CHALLENGE", { cause }));
    }
  }

  #destroy(error: ConnectionError): void {
    if (this.#closeError) return;
    this.#closeError = error;
    clearInterval(this.#keepAlive);
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#handshake?.reject(error);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionError(`${pending.what}: ${error.message}`, { cause: error }));
    }
    this.#pending.clear();
    const listeners = [...this.#producers.values(), ...this.#consumers.values()];
    this.#producers.clear();
    this.#consumers.clear();
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const listener of listeners) listener.onConnectionClosed(error);
    this.#resolveClosed(error);
  }
}

/** The error a response carries, if any (CommandError, or a `Failed` lookup / metadata answer). */
function responseError(command: AnyCommand, what: string): BrokerError | undefined {
  if (command.type === "ERROR") return BrokerError.from(command.error, command.message, what);
  if (
    command.response === "Failed" || command.error !== undefined && command.type !== "SEND_ERROR"
  ) {
    return BrokerError.from(command.error ?? "UnknownError", command.message, what);
  }
  // The schema commands name their failure differently.
  if (command.errorCode !== undefined) {
    return BrokerError.from(command.errorCode, command.errorMessage, what);
  }
  return undefined;
}

function describeTarget(command: AnyCommand): string {
  return String(command.topic ?? command.namespace ?? "");
}

/** Host, port and TLS flag of a `pulsar://` or `pulsar+ssl://` URL. */
export function parseServiceUrl(url: string): { hostname: string; port: number; tls: boolean } {
  const match = /^(pulsar|pulsar\+ssl):\/\/([^/:,]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(url.trim());
  if (!match) {
    throw new ConnectionError(`'${url}' is not a pulsar:// or pulsar+ssl:// URL`);
  }
  const tls = match[1] === "pulsar+ssl";
  return {
    hostname: match[2].replace(/^\[|\]$/g, ""),
    port: match[3] ? Number(match[3]) : tls ? 6651 : 6650,
    tls,
  };
}

function stripScheme(url: string): string {
  const { hostname, port } = parseServiceUrl(url);
  return `${hostname}:${port}`;
}

function connectSocket(
  url: { hostname: string; port: number; tls: boolean },
  tls: TlsOptions | undefined,
): Promise<Deno.Conn> {
  if (!url.tls) return Deno.connect({ hostname: url.hostname, port: url.port });
  return Deno.connectTls({
    hostname: tls?.hostname ?? url.hostname,
    port: url.port,
    ...(tls?.caCerts ? { caCerts: tls.caCerts } : {}),
    ...(tls?.cert && tls?.key ? { cert: tls.cert, key: tls.key } : {}),
  });
}
