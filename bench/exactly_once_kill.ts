/**
 * The long exactly-once kill run (opt-in, not in the suite): 100,000 events through
 * `consume --guarantee exactly-once | filter | produce --guarantee exactly-once` on the real
 * broker, kill -9 of a random process at 20 moments checked to fall mid-stream, the pipe started
 * again after each; then every result must be on the output topic exactly once and the source
 * backlog 0. Results go to bench/exactly_once_results.md by hand.
 *
 * Run: deno run -A bench/exactly_once_kill.ts [events] [kills]
 * (PULSAR_SERVICE_URL / PULSAR_ADMIN_URL; the broker needs transactionCoordinatorEnabled=true)
 *
 * @module
 */
import { exactlyOnceKill } from "../test/harness/exactly_once_kill.ts";

const events = Number(Deno.args[0] ?? 100_000);
const kills = Number(Deno.args[1] ?? 20);
const started = Date.now();
const report = await exactlyOnceKill({
  events,
  kills,
  spareRounds: 3 * kills,
  runTimeoutMs: 300_000,
});
const ok = report.kill.midStreamKills === kills && report.visible.duplicates === 0 &&
  report.visible.missing.length === 0 && report.visible.unexpected.length === 0 &&
  report.java.duplicates === 0 && report.java.distinct === report.expected.length &&
  report.backlog === 0 && report.kill.last.codes.every((c) => c === 0);
console.log(
  `${ok ? "PASS" : "FAIL"}: ${events} events, ${report.kill.midStreamKills} mid-stream kills of ` +
    `${report.kill.rounds.length} rounds (seed ${report.kill.seed}); ${report.visible.distinct} ` +
    `distinct of ${report.expected.length}, ${report.visible.duplicates} duplicates, ` +
    `${report.visible.missing.length} missing; Java: ${report.java.distinct} distinct, ` +
    `${report.java.duplicates} duplicates; backlog ${report.backlog}; ` +
    `${Math.round((Date.now() - started) / 1000)} s`,
);
Deno.exit(ok ? 0 : 1);
