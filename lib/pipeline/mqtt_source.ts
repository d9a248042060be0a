/**
 * The `mqtt` source of a pipeline file: the same {@linkcode MqttSource} as
 * `edgepipe consume mqtt://…`, with acknowledgements held until the pipeline's terminal delivery
 * reports the messages (in the same process). The first item is the `hello` record; with
 * `idleExit` or `count`, the last is the `end` record.
 *
 * @module
 */
import { endRecord, type Item } from "../envelope.ts";
import { mqttCredentials, mqttTlsFiles, parseMqttVersion } from "../sources/mqtt/mqtt_connect.ts";
import { MqttSource } from "../sources/mqtt/mqtt_source.ts";
import { parseMqttTarget } from "../sources/mqtt/mqtt_url.ts";
import type { SourcePlan } from "./plan.ts";
import type { PipelineSource, RejectHandling } from "./sources.ts";

/** Connects and subscribes. */
export async function openMqttSource(
  plan: Extract<SourcePlan, { kind: "mqtt" }>,
  handling: RejectHandling,
): Promise<PipelineSource> {
  const target = parseMqttTarget(plan.url);
  const source = await MqttSource.open({
    target,
    protocolVersion: parseMqttVersion(plan.mqttVersion),
    clientId: plan.clientId,
    ...await mqttCredentials(
      { username: plan.username, "password-file": plan.passwordFile },
      target,
    ),
    ...await mqttTlsFiles({
      "tls-ca": plan.tlsCa,
      "tls-cert": plan.tlsCert,
      "tls-key": plan.tlsKey,
    }),
    qos: plan.qos,
    ack: "downstream",
    payload: plan.payload,
    onError: handling.policy.kind === "fail" ? "fail" : "skip",
    timeField: plan.timeField,
    idleExitMs: plan.idleExitMs,
    limit: plan.count,
    log: handling.log,
  });
  async function* items(): AsyncGenerator<Item> {
    yield source.hello()!;
    yield* source.envelopes();
    if (source.finished) yield endRecord("consume");
  }
  return {
    items: items(),
    async close() {
      await source.close({ timeoutMs: 5_000, connectWithinMs: 5_000 });
    },
  };
}
