import assert from "node:assert/strict";
import { tokenAuth, tokenFromSpec, tokenSupplierFromSpec } from "./auth.ts";
import { AuthenticationError } from "./errors.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("token auth: fixed tokens, suppliers asked each time, token: prefix dropped", async () => {
  assert.equal(text(await tokenAuth("abc").authData()), "abc");
  let n = 0;
  const rotating = tokenAuth(() => `t${++n}`);
  assert.equal(text(await rotating.authData()), "t1");
  assert.equal(text(await rotating.authData()), "t2");
  assert.equal(text(await tokenFromSpec("token:xyz").authData()), "xyz");
});

Deno.test("token auth: file: specs are re-read on every call", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "first\n");
    const auth = tokenFromSpec(`file://${file}`);
    assert.equal(text(await auth.authData()), "first");
    await Deno.writeTextFile(file, "second");
    assert.equal(text(await auth.authData()), "second");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("token auth: empty tokens and failing suppliers are AuthenticationErrors", async () => {
  await assert.rejects(tokenAuth("  ").authData(), AuthenticationError);
  await assert.rejects(
    tokenAuth(() => Promise.reject(new Error("vault down"))).authData(),
    (err: unknown) =>
      err instanceof AuthenticationError && (err.cause as Error).message === "vault down",
  );
  await assert.rejects(tokenFromSpec("file:///nonexistent/token").authData(), AuthenticationError);
});

Deno.test("token specs: the broker's CONNECT and the admin bearer get the same bare token", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "token:from-file\n");
    for (
      const [spec, token] of [
        ["token:abc.def", "abc.def"],
        ["abc.def", "abc.def"],
        ["  token:abc.def \n", "abc.def"],
        [`file:${file}`, "from-file"],
        [`file://${file}`, "from-file"],
      ]
    ) {
      assert.equal(await tokenSupplierFromSpec(spec)(), token, spec);
      assert.equal(text(await tokenFromSpec(spec).authData()), token, spec);
    }
  } finally {
    await Deno.remove(file);
  }
});
