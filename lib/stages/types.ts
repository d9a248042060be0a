/**
 * The shape every stage has: an async transform from items to items. Control records that a stage
 * does not understand pass through it untouched and in order.
 *
 * @module
 */
import type { Item } from "../envelope.ts";

/** A stream transform. */
export type Stage = (input: AsyncIterable<Item>) => AsyncIterable<Item>;

/** Chains stages left to right. */
export function pipeStages(input: AsyncIterable<Item>, ...stages: Stage[]): AsyncIterable<Item> {
  return stages.reduce((stream, stage) => stage(stream), input);
}
