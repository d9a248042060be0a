/**
 * Parses `route --to '<CEL>=<destination>'`. CEL has no lone `=` operator (only `==`, `!=`, `<=`,
 * `>=`), so the first lone `=` outside a string literal separates the condition from the
 * destination, which may itself contain `=` (`s3://lake/date=%Y-%m-%d/`).
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** One `--to` rule before compilation. */
export interface RouteRule {
  condition: string;
  destination: string;
}

/**
 * Splits a `--to` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRouteRule } from "./route_rule.ts";
 * const rule = parseRouteRule('event.value.origin == "SFO"=s3://lake/origin=SFO/');
 * assert.equal(rule.condition, 'event.value.origin == "SFO"');
 * assert.equal(rule.destination, "s3://lake/origin=SFO/");
 * ```
 */
export function parseRouteRule(text: string): RouteRule {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote) {
      if (char === "\\") i++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      continue;
    }
    if (char !== "=") continue;
    const before = text[i - 1];
    const after = text[i + 1];
    if (after === "=" || before === "=" || before === "!" || before === "<" || before === ">") {
      continue;
    }
    const condition = text.slice(0, i).trim();
    const destination = text.slice(i + 1).trim();
    if (condition === "" || destination === "") break;
    return { condition, destination };
  }
  throw new UsageError(
    `--to '${text}': expected '<CEL condition>=<destination>', e.g. 'event.value.amount > 100.0=persistent://public/default/big'`,
  );
}
