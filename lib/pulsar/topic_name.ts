/**
 * Topic names: short forms (`my-topic`, `tenant/ns/my-topic`) completed to
 * `persistent://tenant/namespace/topic`, and the `-partition-N` suffix of partitions.
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";

const PARTITION_SUFFIX = /-partition-(\d+)$/;

/** A parsed, complete topic name. */
export interface TopicName {
  /** `persistent://tenant/ns/local` */
  readonly full: string;
  /** False for `non-persistent://` topics. */
  readonly persistent: boolean;
  /** The tenant (`public`). */
  readonly tenant: string;
  /** The namespace (`default`). */
  readonly namespace: string;
  /** The topic's own name, partition suffix included. */
  readonly local: string;
  /** Partition index when the name is one partition, else -1. */
  readonly partition: number;
}

/**
 * Completes and checks a topic name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTopic } from "./topic_name.ts";
 * assert.equal(parseTopic("orders").full, "persistent://public/default/orders");
 * assert.equal(parseTopic("t/ns/orders-partition-2").partition, 2);
 * ```
 */
export function parseTopic(name: string): TopicName {
  let rest = name.trim();
  let persistent = true;
  const scheme = /^(persistent|non-persistent):\/\//.exec(rest);
  if (scheme) {
    persistent = scheme[1] === "persistent";
    rest = rest.slice(scheme[0].length);
  } else if (rest.includes("://")) {
    throw new InvalidArgumentError(`topic '${name}' has an unknown domain`);
  }
  const parts = rest.split("/");
  let tenant: string, namespace: string, local: string;
  if (parts.length === 1 && !scheme) [tenant, namespace, local] = ["public", "default", parts[0]];
  else if (parts.length >= 3) {
    [tenant, namespace] = parts;
    local = parts.slice(2).join("/");
  } else throw new InvalidArgumentError(`topic '${name}' is not tenant/namespace/topic`);
  if (!tenant || !namespace || !local) {
    throw new InvalidArgumentError(`topic '${name}' is incomplete`);
  }
  const match = PARTITION_SUFFIX.exec(local);
  const domain = persistent ? "persistent" : "non-persistent";
  return {
    full: `${domain}://${tenant}/${namespace}/${local}`,
    persistent,
    tenant,
    namespace,
    local,
    partition: match ? Number(match[1]) : -1,
  };
}

/** Name of partition `index` of a partitioned topic. */
export function partitionTopic(topic: string, index: number): string {
  return `${parseTopic(topic).full}-partition-${index}`;
}
