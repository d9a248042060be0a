/**
 * The root of edgepipe's typed errors. Every failure a user can meet has its own subclass, keeps
 * the underlying error as `cause`, and says whether retrying the same operation may succeed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EdgepipeError } from "./errors.ts";
 * const err = new EdgepipeError("broker unreachable", { retriable: true });
 * assert.ok(err.retriable);
 * ```
 */
export class EdgepipeError extends Error {
  /** True when the same operation may succeed if tried again (network, broker busy). */
  readonly retriable: boolean;

  /** `retriable` marks a failure that may pass when tried again. */
  constructor(message: string, options: ErrorOptions & { retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad input from a user: a malformed line, a wrong flag, an invalid expression or file. */
export class InputError extends EdgepipeError {
  /** 1-based line number of the offending input line, when there is one. */
  readonly line?: number;

  /** With `line`, the message starts with `line N: `. */
  constructor(message: string, options: ErrorOptions & { line?: number } = {}) {
    super(options.line === undefined ? message : `line ${options.line}: ${message}`, options);
    this.line = options.line;
  }
}

/** A command-line usage mistake: unknown flag, missing argument. Exit code 2. */
export class UsageError extends EdgepipeError {}

/** One line for a person: the message, then each `cause` in turn. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      // A wrapper often quotes its cause (or the cause's `reason`) already; say each thing once.
      const message = current.message;
      const reason = (current as { reason?: unknown }).reason;
      const quoted = (part: string) =>
        part.includes(message) || (typeof reason === "string" && reason !== "" &&
          part.includes(reason));
      if (!parts.some(quoted)) parts.push(message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(": ");
}
