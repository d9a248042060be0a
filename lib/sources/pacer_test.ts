import assert from "node:assert/strict";
import { Pacer, parseRate } from "./pacer.ts";
import { toEventTime } from "./event_time.ts";

function fakeClock() {
  const clock = {
    now: 1000,
    slept: [] as number[],
    sleep(ms: number) {
      clock.slept.push(ms);
      clock.now += ms;
      return Promise.resolve();
    },
  };
  return { clock, seam: { now: () => clock.now, sleep: (ms: number) => clock.sleep(ms) } };
}

Deno.test("Pacer at a fixed rate spaces events evenly over wall time", async () => {
  const { clock, seam } = fakeClock();
  const pacer = new Pacer({ kind: "rate", perSecond: parseRate("4/s") }, seam);
  for (let i = 0; i < 9; i++) await pacer.wait();
  assert.equal(clock.now - 1000, 2000); // the 9th event is due 8 × 250 ms after the first
  assert.deepEqual(clock.slept, Array(8).fill(250));
});

Deno.test("Pacer with a speedup follows event time, and sends late events at once", async () => {
  const { clock, seam } = fakeClock();
  const pacer = new Pacer({ kind: "speedup", factor: 60 }, seam);
  const minute = 60_000;
  for (const t of [0, minute, 3 * minute, 2 * minute, 4 * minute]) await pacer.wait(t);
  assert.deepEqual(clock.slept, [1000, 2000, 1000]);
});

Deno.test("parseRate and toEventTime accept the documented forms and reject others", () => {
  assert.equal(parseRate("500/s"), 500);
  assert.equal(parseRate("120/m"), 2);
  assert.equal(parseRate("10"), 10);
  assert.throws(() => parseRate("fast"), /--rate: expected events per second like 500\/s/);
  assert.throws(() => parseRate("0/s"), /--rate/);
  assert.equal(toEventTime("2024-11-24T10:00:00.000Z", "t"), Date.UTC(2024, 10, 24, 10));
  assert.equal(toEventTime("1732400000000", "t"), 1732400000000);
  assert.equal(toEventTime(12n, "t"), 12);
  assert.throws(
    () => toEventTime("yesterday", "t"),
    /event time field 't' is "yesterday"; expected epoch milliseconds or an ISO-8601 date/,
  );
  assert.throws(() => toEventTime(undefined, "when"), /event time field 'when' is missing/);
});
