/**
 * The full-size MQTT kill run (opt-in, not in the suite): 100,000 QoS 1 messages from
 * `mosquitto_pub` through `consume mqtt://… | score --model models/flight-delay | produce <topic>`
 * with 6 kill -9 of random processes at random moments; every message must arrive (duplicates
 * counted, 0 missing). It is `test/integration/mqtt_score_kill_test.ts` at full size.
 *
 * Run: `set -a; . servers.env; set +a; deno run -A bench/mqtt_kill_bench.ts [events] [kills]`.
 * Results: `bench/mqtt_results.md`.
 */
const events = Deno.args[0] ?? "100000";
const kills = Deno.args[1] ?? "6";
const test = new URL("../test/integration/mqtt_score_kill_test.ts", import.meta.url).pathname;
const { code } = await new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", test],
  env: { MQTT_KILL_EVENTS: events, MQTT_KILL_KILLS: kills },
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(code);
