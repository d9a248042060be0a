/**
 * A keyed function for `edgepipe process`: per key (e.g. origin airport), the running count and
 * mean delay of its flights, reported once the key has been quiet for an hour of event time.
 *
 *   edgepipe replay flights.ndjson --time date \
 *     | edgepipe process examples/functions/quiet_hour.ts --key value.origin
 *
 * Each report: {"key":"SFO","eventTime":<last flight + 1 h>,"value":{"flights":…,"mean_delay":…}}
 */
import type { KeyedFunction } from "../../mod.ts";

interface Running {
  flights: number;
  delay: number;
  /** The pending report's time. */
  timer: number;
}

const HOUR = 3_600_000;

const quietHour: KeyedFunction<Running> = {
  onEvent(event, ctx) {
    const delay = (event.value as { delay: number }).delay;
    const s = ctx.state ?? { flights: 0, delay: 0, timer: NaN };
    if (Number.isFinite(s.timer)) ctx.timers.deleteEventTime(s.timer);
    s.flights += 1;
    s.delay += delay;
    s.timer = ctx.time + HOUR;
    ctx.timers.setEventTime(s.timer);
    ctx.state = s;
  },
  onTimer(_time, ctx) {
    const s = ctx.state!;
    ctx.emit({ flights: s.flights, mean_delay: s.delay / s.flights });
    s.timer = NaN;
    ctx.state = s;
  },
};

export default quietHour;
