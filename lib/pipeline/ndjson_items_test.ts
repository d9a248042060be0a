import assert from "node:assert/strict";
import type { DeadLetter } from "../dead_letter.ts";
import { ndjsonItems } from "./sources.ts";

const input = () =>
  ReadableStream.from([
    Uint8Array.from([
      ...new TextEncoder().encode('{"id":"a","value":1}\n\n   \n'),
      0x7b,
      0xfc,
      0x7d,
      0x0a,
      ...new TextEncoder().encode('{"id":"b","value":2}\n'),
    ]),
  ]);

Deno.test("run's stdin: a line that is not UTF-8 follows the policy, blank lines are skipped", async () => {
  const said: string[] = [];
  const ids: unknown[] = [];
  const skip = { policy: { kind: "skip" as const }, log: (m: string) => void said.push(m) };
  for await (const item of ndjsonItems(input(), skip)) ids.push((item as { id: string }).id);
  assert.deepEqual(ids, ["a", "b"]);
  assert.equal(said.length, 1);
  assert.match(said[0], /^skipped: line 4: not valid UTF-8/);

  const letters: DeadLetter[] = [];
  const deadLetters = {
    write: (record: DeadLetter) => Promise.resolve(void letters.push(record)),
    close: () => Promise.resolve(),
  };
  const dead = {
    policy: { kind: "dead-letter" as const, target: "x" },
    deadLetters,
    log: () => {},
  };
  for await (const _ of ndjsonItems(input(), dead)) { /* drain */ }
  assert.equal(letters.length, 1);
  assert.equal(letters[0].deadLetter.rawBase64, btoa(String.fromCharCode(0x7b, 0xfc, 0x7d)));

  await assert.rejects(async () => {
    for await (const _ of ndjsonItems(input(), { policy: { kind: "fail" }, log: () => {} })) {
      /* drain */
    }
  }, /line 4: not valid UTF-8/);
});
