import assert from "node:assert/strict";
import { authMethod } from "./auth_params.ts";

Deno.test("auth plugins: class names and short names; params as the Java client reads them", () => {
  assert.deepEqual(
    authMethod("org.apache.pulsar.client.impl.auth.AuthenticationToken", "token:abc"),
    { kind: "token", spec: "token:abc" },
  );
  assert.deepEqual(authMethod("token", '{"token":"xyz"}'), { kind: "token", spec: "xyz" });
  assert.deepEqual(
    authMethod(
      "org.apache.pulsar.client.impl.auth.oauth2.AuthenticationOAuth2",
      '{"issuerUrl":"https://i","privateKey":"file:///c.json","audience":"aud"}',
    ),
    {
      kind: "oauth2",
      params: { issuerUrl: "https://i", credentialsUrl: "file:///c.json", audience: "aud" },
    },
  );
  assert.deepEqual(
    authMethod(
      "org.apache.pulsar.client.impl.auth.AuthenticationTls",
      "tlsCertFile:/c.pem,tlsKeyFile:/k.pem",
    ),
    { kind: "tls", certFile: "/c.pem", keyFile: "/k.pem" },
  );
  assert.deepEqual(authMethod("TLS", '{"tlsCertFile":"/c.pem"}'), {
    kind: "tls",
    certFile: "/c.pem",
  });
});

Deno.test("auth plugins: unknown plugins and empty or malformed params are refused", () => {
  assert.throws(
    () => authMethod("org.apache.pulsar.client.impl.auth.AuthenticationSasl", "{}"),
    /not supported/,
  );
  assert.throws(() => authMethod("token", ""), /empty/);
  assert.throws(() => authMethod("token", '{"tok":"x"}'), /'token' string/);
  assert.throws(() => authMethod("tls", "tlsCertFile"), /tlsCertFile:<path>/);
  assert.throws(() => authMethod("oauth2", "{"), /JSON object/);
});
