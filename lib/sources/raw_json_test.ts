import assert from "node:assert/strict";
import fc from "fast-check";
import { isCanonicalJson, RawJson } from "./raw_json.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
/** The reference: what the slow path (the platform's parse, then stringify) writes. */
const roundTrip = (text: string) => JSON.stringify(JSON.parse(text));

Deno.test("isCanonicalJson accepts the compact JSON producers write", () => {
  for (
    const text of [
      '{"n":1,"origin":"SFO","pad":"xxxx"}',
      '{"a":[1,2.5,-3,0,0.25,-0.5,0.000001,123456789012345],"b":null,"c":true,"d":false}',
      '{"s":"tab\\tquote\\"back\\\\slash\\nnl\\r\\b\\f","u":"héllo €𝄞 \u2028"}',
      '{"":{},"x":[],"y":[{}],"z":{"x":1}}',
      '"just a string"',
      "42",
      "null",
      "[1,[2,[3]]]",
      '{"__proto__":1,"a-1":2}',
    ]
  ) {
    assert.equal(isCanonicalJson(bytes(text)), true, text);
    assert.equal(roundTrip(text), text, `the reference agrees for ${text}`);
  }
});

Deno.test("isCanonicalJson refuses what parse + stringify would write differently", () => {
  for (
    const text of [
      '{"a": 1}', // whitespace
      " 1",
      '{"a":1}\n',
      '{"a":1.50}', // trailing fraction zero
      '{"a":1.0}',
      '{"a":-0}',
      '{"a":1e3}',
      '{"a":1E3}',
      '{"a":0.0000001}', // written 1e-7
      '{"a":12345678901234567}', // 17 digits, past 2^53
      '{"a":0.12345678901234567}',
      '{"a":"\\/"}', // escape written back as /
      '{"a":"\\u0041"}',
      '{"a":1,"a":2}', // duplicate keys
      '{"b":1,"1":2}', // index keys move first
      '{"a":{"k":1,"k":2}}',
    ]
  ) {
    assert.equal(isCanonicalJson(bytes(text)), false, text);
    assert.notEqual(roundTrip(text), text, `the reference agrees for ${text}`);
  }
});

Deno.test("isCanonicalJson refuses text that is not JSON or not UTF-8", () => {
  for (
    const text of [
      "",
      "{",
      '{"a":1',
      '{"a"}',
      "[1,]",
      "[,1]",
      "01",
      "-",
      "1.",
      "tru",
      "nul",
      "falsy",
      '"abc',
      "{}{}",
      '{"a":1}}',
      "[1]]",
      '"\u0001"',
      "NaN",
      "+1",
      ".5",
    ]
  ) {
    assert.equal(isCanonicalJson(bytes(text)), false, JSON.stringify(text));
  }
  for (
    const invalid of [
      [0x22, 0xc0, 0x80, 0x22], // overlong
      [0x22, 0xed, 0xa0, 0x80, 0x22], // a UTF-16 surrogate
      [0x22, 0xe2, 0x82, 0x22], // truncated
      [0x22, 0xf5, 0x80, 0x80, 0x80, 0x22],
      [0x22, 0x80, 0x22],
      [0xef, 0xbb, 0xbf, 0x31], // a byte-order mark before the value
    ]
  ) {
    const data = new Uint8Array(invalid);
    assert.equal(isCanonicalJson(data), false, String(invalid));
  }
});

Deno.test("isCanonicalJson: whatever it accepts, parse + stringify writes back unchanged", () => {
  // Random JSON values, serialised (compact) and also spaced out and mutated.
  const texts = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.jsonValue().map((v) => JSON.stringify(v, null, 1)),
    fc.string({
      unit: fc.constantFrom(...'{}[],:"\\-.0123456789eE+ antrulfsx/u\n'),
      maxLength: 24,
    }),
    fc.tuple(fc.jsonValue().map((v) => JSON.stringify(v)), fc.nat(), fc.string({ maxLength: 2 }))
      .map(([t, at, s]) => t.slice(0, at % (t.length + 1)) + s + t.slice(at % (t.length + 1))),
  );
  let accepted = 0;
  fc.assert(
    fc.property(texts, (text) => {
      if (!isCanonicalJson(bytes(text))) return;
      accepted++;
      assert.equal(roundTrip(text), text);
    }),
    { numRuns: 5000 },
  );
  assert.ok(accepted > 500, `only ${accepted} texts accepted: the fast path would be rare`);
});

Deno.test("RawJson stringifies as the value it holds", () => {
  const raw = new RawJson(bytes('{"a":[1,"é"]}'));
  assert.equal(JSON.stringify({ topic: "t", value: raw }), '{"topic":"t","value":{"a":[1,"é"]}}');
});
