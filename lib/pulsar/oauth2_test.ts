import assert from "node:assert/strict";
import { oauth2Auth, parseOAuth2Params } from "./oauth2.ts";
import { AuthenticationError } from "./errors.ts";

/** A minimal issuer: metadata plus a token endpoint that counts requests and checks the secret. */
function fakeIssuer(expiresIn = 100) {
  const seen: URLSearchParams[] = [];
  let n = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/.well-known/openid-configuration") {
      return Response.json({ token_endpoint: `${url.origin}/token` });
    }
    const form = new URLSearchParams(await req.text());
    seen.push(form);
    if (form.get("client_secret") !== "right") {
      return Response.json({ error: "invalid_client" }, { status: 401 });
    }
    return Response.json({ access_token: `tok-${++n}`, expires_in: expiresIn });
  });
  const issuerUrl = `http://127.0.0.1:${server.addr.port}/`;
  return { issuerUrl, seen, close: () => server.shutdown() };
}

Deno.test("oauth2: client credentials from a file; token cached; refreshed near expiry", async () => {
  const issuer = fakeIssuer(100);
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, JSON.stringify({ client_id: "c1", client_secret: "right" }));
    let clock = 1_000_000;
    const auth = oauth2Auth({
      issuerUrl: issuer.issuerUrl,
      credentialsUrl: `file://${file}`,
      audience: "urn:a",
      scope: "s1",
    }, { now: () => clock });
    assert.equal(await auth.accessToken(), "tok-1");
    assert.equal(await auth.accessToken(), "tok-1", "cached");
    const form = issuer.seen[0];
    assert.equal(form.get("grant_type"), "client_credentials");
    assert.equal(form.get("client_id"), "c1");
    assert.equal(form.get("audience"), "urn:a");
    assert.equal(form.get("scope"), "s1");
    clock += 89_000;
    assert.equal(await auth.accessToken(), "tok-1", "still under 90 % of its lifetime");
    clock += 2_000;
    assert.equal(await auth.accessToken(), "tok-2", "fetched again past 90 %");
    // A challenge asks for a fresh token, but not twice within a second.
    clock += 5_000;
    assert.equal(new TextDecoder().decode(await auth.authData({ refresh: true })), "tok-3");
    assert.equal(await auth.accessToken({ refresh: true }), "tok-3");
    assert.equal(issuer.seen.length, 3);
  } finally {
    await Deno.remove(file);
    await issuer.close();
  }
});

Deno.test("oauth2: a refused secret is an AuthenticationError without the secret", async () => {
  const issuer = fakeIssuer();
  try {
    const auth = oauth2Auth({
      issuerUrl: issuer.issuerUrl,
      clientId: "c",
      clientSecret: "wrong-9z",
    });
    await assert.rejects(auth.accessToken(), (err: unknown) => {
      assert.ok(err instanceof AuthenticationError);
      assert.match(err.message, /refused the token request .*HTTP 401, invalid_client/);
      assert.ok(!err.message.includes("wrong-9z"));
      return true;
    });
  } finally {
    await issuer.close();
  }
});

Deno.test("oauth2: a still-valid token outlives a failed refresh; an expired one does not", async () => {
  const issuer = fakeIssuer(100);
  let clock = 0;
  const auth = oauth2Auth(
    { issuerUrl: issuer.issuerUrl, clientId: "c", clientSecret: "right" },
    { now: () => clock },
  );
  assert.equal(await auth.accessToken(), "tok-1");
  await issuer.close();
  clock = 95_000; // past the refresh point, before expiry: the issuer is gone
  assert.equal(await auth.accessToken(), "tok-1");
  clock = 101_000;
  await assert.rejects(auth.accessToken(), /cannot reach the issuer/);
});

Deno.test("oauth2 params: the Java, C++ and Go spellings; bad params name what is wrong", () => {
  assert.deepEqual(
    parseOAuth2Params(
      '{"type":"client_credentials","issuer_url":"https://i","private_key":"/c.json"}',
    ),
    { issuerUrl: "https://i", credentialsUrl: "/c.json" },
  );
  assert.deepEqual(
    parseOAuth2Params('{"issuerUrl":"https://i","client_id":"a","client_secret":"b","scope":"x"}'),
    { issuerUrl: "https://i", clientId: "a", clientSecret: "b", scope: "x" },
  );
  assert.throws(() => parseOAuth2Params("issuerUrl=x"), /must be a JSON object/);
  assert.throws(() => parseOAuth2Params('{"privateKey":"file:///c"}'), /'issuerUrl' is missing/);
  assert.throws(() => parseOAuth2Params('{"issuerUrl":"https://i"}'), /'privateKey'.* is missing/);
  assert.throws(
    () => parseOAuth2Params('{"type":"jwt_bearer","issuerUrl":"https://i","privateKey":"/c"}'),
    /only type 'client_credentials'/,
  );
});

Deno.test("oauth2: credentials as a data: URL; a credentials file that is not JSON", async () => {
  const issuer = fakeIssuer();
  const file = await Deno.makeTempFile();
  try {
    const json = btoa(JSON.stringify({ client_id: "c", client_secret: "right" }));
    const auth = oauth2Auth({
      issuerUrl: issuer.issuerUrl,
      credentialsUrl: `data:application/json;base64,${json}`,
    });
    assert.equal(await auth.accessToken(), "tok-1");
    await Deno.writeTextFile(file, "client_secret=hunter2");
    const broken = oauth2Auth({ issuerUrl: issuer.issuerUrl, credentialsUrl: file });
    await assert.rejects(broken.accessToken(), (err: unknown) => {
      assert.ok(err instanceof AuthenticationError);
      assert.match(err.message, /credentials file is not JSON/);
      assert.ok(!err.message.includes("hunter2"));
      return true;
    });
  } finally {
    await Deno.remove(file);
    await issuer.close();
  }
});
