/**
 * What the broker itself says about a topic, read from its admin REST API with plain `fetch` (not
 * through edgepipe's client): messages published, a subscription's backlog.
 *
 * @module
 */

/** The admin path of a `persistent://tenant/ns/topic` name. */
function topicPath(topic: string): string {
  const match = /^(persistent|non-persistent):\/\/([^/]+)\/([^/]+)\/(.+)$/.exec(topic);
  if (!match) throw new Error(`not a full topic name: ${topic}`);
  const [, domain, tenant, namespace, local] = match;
  return `${domain}/${tenant}/${namespace}/${encodeURIComponent(local)}`;
}

/**
 * The broker's stats of `topic` (`GET …/stats?getPreciseBacklog=true`: backlogs count messages,
 * not batch entries), or undefined when the topic does not exist.
 */
export async function topicStats(
  adminUrl: string,
  topic: string,
): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(
    `${adminUrl}/admin/v2/${topicPath(topic)}/stats?getPreciseBacklog=true`,
  );
  const text = await response.text();
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`stats of ${topic}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** How many messages were ever published to `topic` (`msgInCounter`; 0 before it exists). */
export async function publishedCount(adminUrl: string, topic: string): Promise<number> {
  const stats = await topicStats(adminUrl, topic);
  return stats === undefined ? 0 : Number(stats.msgInCounter);
}

/**
 * The messages of `topic` that `subscription` has not acknowledged (its precise `msgBacklog`),
 * or undefined when the topic or the subscription does not exist.
 */
export async function backlogOf(
  adminUrl: string,
  topic: string,
  subscription: string,
): Promise<number | undefined> {
  const stats = await topicStats(adminUrl, topic);
  const subscriptions = (stats?.subscriptions ?? {}) as Record<string, { msgBacklog: number }>;
  return subscriptions[subscription]?.msgBacklog;
}
