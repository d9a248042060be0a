/**
 * Help texts for the MQTT forms of `consume` and `produce`, kept apart from the MQTT client so
 * that `--help` and the Pulsar paths never load it.
 *
 * @module
 */

/** Help for the MQTT connection flags (`MQTT_FLAGS` in `lib/sources/mqtt/mqtt_connect.ts`). */
export const MQTT_HELP = `MQTT (a target mqtt://host[:port]/<topic> or mqtts://…):
  --mqtt-version <v>    5 (default) | 3.1.1
  --client-id <id>      stable client id: a persistent session (clean start off), so what was
                        not acknowledged is redelivered after a crash; without it a random id
                        and a clean session
  --session-expiry <d>  MQTT 5: how long the broker keeps the session while away (default 7d)
  --username <u>        user name (env MQTT_USERNAME; or mqtt://user@host/…)
  --password-file <f>   the password, read from a file (env MQTT_PASSWORD); never a flag
  --qos <0|1|2>         subscription / publish QoS (default 1)
  --tls-ca, --tls-cert, --tls-key <file>  PEM CA, client certificate and key for mqtts://`;

/** The `--help` section for MQTT sources. */
export const MQTT_CONSUME_HELP =
  `Reading MQTT (edgepipe consume mqtt://host[:port]/<topic filter> [options]):
  The filter may use + and # wildcards. Each message becomes an envelope whose topic and key are
  the MQTT topic, with MQTT 5 user properties in properties and mqtt.qos, mqtt.retain,
  mqtt.contentType, mqtt.responseTopic, mqtt.correlationData (base64) beside them. A QoS 1/2
  message is acknowledged (PUBACK / PUBREC) only when the terminal stage reports it delivered
  (--ack downstream, the default into a pipe) or once written (--ack on-write).
  -e                    exit once no message has arrived for --idle (MQTT has no end of topic)
  --idle <d>            with -e (default 2s)
  -c, --count <N>       exit after N messages
  --payload <p>         json (default) | string | base64
  --time-field <path>   event time from this field of the value (epoch ms or ISO-8601, UTC
                        without an offset); MQTT itself carries none
  --on-error <policy>   payloads that are not UTF-8 (with json/string), a bad --time-field: fail (default) | skip
  --ack <mode>          downstream | on-write
  --ack-timeout <d>     at exit, how long to wait for the terminal's last reports (default 30s)
  --connect-timeout <d> bound for the first connection (default 10s)
  --stats               one-line summary on stderr every 5 s and at the end
${MQTT_HELP}

  edgepipe consume mqtt://127.0.0.1/sensors/+/temp --client-id edge-1 \\
    | edgepipe score --model models/flight-delay | edgepipe produce scored
  MQTT_PASSWORD=… edgepipe consume mqtts://broker:8883/plant/# --username edge \\
    --tls-ca ca.pem --mqtt-version 3.1.1 --ack on-write -c 10`;
