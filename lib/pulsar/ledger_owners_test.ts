import assert from "node:assert/strict";
import { LedgerOwners } from "./ledger_owners.ts";

Deno.test("the ledger map stays bounded over a long run and keeps the ledgers in use", () => {
  const owners = new LedgerOwners<string>(() => 16);
  // Two topics whose ledgers roll over 100 000 times; topic "a" keeps one old ledger busy.
  for (let i = 0; i < 100_000; i++) {
    owners.set(BigInt(2 * i), "a");
    owners.set(BigInt(2 * i + 1), "b");
    if (i % 4 === 0) owners.set(0n, "a");
    assert.ok(owners.size <= 16);
  }
  assert.equal(owners.size, 16);
  assert.equal(owners.get(199_999n), "b", "the newest ledger is known");
  assert.equal(owners.get(199_998n), "a");
  assert.equal(owners.get(0n), "a", "a ledger still in use is not forgotten");
  assert.equal(owners.get(1n), undefined, "an old idle ledger is forgotten");
});
