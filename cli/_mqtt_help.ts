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

/** The `--help` section for MQTT targets of `produce`. */
export const MQTT_PRODUCE_HELP =
  `Publishing to MQTT (edgepipe produce mqtt://host[:port]/<topic template> [options]):
  The topic may name fields of each event in braces: alerts/{value.site}. An event without the
  field (or whose topic would be empty or hold a wildcard) follows --on-error. Each event counts
  as delivered (and is reported to the source) once the broker acknowledged it: PUBACK (QoS 1,
  the default), PUBCOMP (QoS 2), or written to the socket (QoS 0). The payload is what every
  terminal stage delivers (--payload record|value|envelope|field:<path>), a string as its text,
  anything else as JSON; the event's properties become MQTT 5 user properties.
  --qos <0|1|2>         publish QoS (default 1)
  --retain              retain every message; --retain-field <path>: retain when it is true
  --property <k=v>      a user property on every message (repeatable)
  --content-type <t>    MQTT 5 content type (an event's mqtt.contentType property wins)
  --on-error <policy>   fail (default) | skip | dead-letter=<file>
  --max-in-flight <N>   publishes awaiting their acknowledgement (default 1000)
  --buffer-dir <dir>, --buffer-max <size>  store and forward (see the Pulsar part above)
  (and the MQTT connection flags of consume --help: --mqtt-version, --client-id, --username,
  --password-file, --tls-ca, --tls-cert, --tls-key, --connect-timeout)

  edgepipe consume flights -s alerts | edgepipe filter 'event.score.delayed > 0.5' \\
    | edgepipe produce 'mqtt://127.0.0.1/alerts/{value.origin}' --property source=edgepipe`;
