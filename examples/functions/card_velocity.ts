/**
 * A keyed function for `edgepipe process`: per card, an alert when more than five payments come
 * within a minute of wall-clock time, and the card's state dropped after ten minutes without
 * payments (a processing-time timer).
 *
 *   edgepipe consume payments -s velocity \
 *     | edgepipe process examples/functions/card_velocity.ts --key value.card \
 *         --checkpoint-dir ck/velocity \
 *     | edgepipe produce card-alerts
 */
import type { KeyedFunction } from "../../mod.ts";

interface Card {
  /** Wall-clock times of the payments of the last minute. */
  recent: number[];
  expiry: number;
}

const MINUTE = 60_000;

const cardVelocity: KeyedFunction<Card> = {
  onEvent(_event, ctx) {
    const now = Date.now();
    const card = ctx.state ?? { recent: [], expiry: NaN };
    card.recent = card.recent.filter((t) => t > now - MINUTE);
    card.recent.push(now);
    if (card.recent.length > 5) ctx.emit({ alert: "velocity", payments: card.recent.length });
    if (Number.isFinite(card.expiry)) ctx.timers.deleteProcessingTime(card.expiry);
    card.expiry = now + 10 * MINUTE;
    ctx.timers.setProcessingTime(card.expiry);
    ctx.state = card;
  },
  onTimer(_time, ctx) {
    ctx.state = undefined;
  },
};

export default cardVelocity;
