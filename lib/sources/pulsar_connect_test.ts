import assert from "node:assert/strict";
import { adminOptions, adminUrlOf, clientOptions } from "./pulsar_connect.ts";
import { UsageError } from "../errors.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("connection: flags beat the client.conf, which beats the environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const conf = `${dir}/client.conf`;
    await Deno.writeTextFile(
      conf,
      "brokerServiceUrl=pulsar://from-conf:6650\nwebServiceUrl=http://from-conf:8080\n" +
        "authPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken\n" +
        "authParams=token:conf-token\n",
    );
    const env = {
      PULSAR_SERVICE_URL: "pulsar://from-env:6650",
      PULSAR_ADMIN_URL: "http://from-env:8080",
      PULSAR_AUTH_TOKEN: "env-token",
    };
    const fromConf = await clientOptions({ "client-conf": conf }, env);
    assert.equal(fromConf.serviceUrl, "pulsar://from-conf:6650");
    assert.equal(text(await fromConf.auth!.authData()), "conf-token");
    assert.equal(await adminUrlOf({ "client-conf": conf }, env), "http://from-conf:8080");
    const admin = await adminOptions("http://x", { "client-conf": conf }, env);
    assert.equal(typeof admin.token === "function" && await admin.token(), "conf-token");

    const fromFlags = await clientOptions({
      "client-conf": conf,
      "service-url": "pulsar://from-flag:6650",
      token: "flag-token",
    }, env);
    assert.equal(fromFlags.serviceUrl, "pulsar://from-flag:6650");
    assert.equal(text(await fromFlags.auth!.authData()), "flag-token");
    // PULSAR_CLIENT_CONF names the file as pulsar-client's scripts do.
    const viaEnv = await clientOptions({}, { ...env, PULSAR_CLIENT_CONF: conf });
    assert.equal(viaEnv.serviceUrl, "pulsar://from-conf:6650");
    const envOnly = await clientOptions({}, env);
    assert.equal(envOnly.serviceUrl, "pulsar://from-env:6650");
    assert.equal(text(await envOnly.auth!.authData()), "env-token");
    assert.equal(await adminUrlOf({}, env), "http://from-env:8080");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connection: conflicting or incomplete auth flags are usage errors", async () => {
  await assert.rejects(
    clientOptions({ token: "t", "auth-plugin": "token", "auth-params": "token:u" }, {}),
    UsageError,
  );
  await assert.rejects(clientOptions({ "auth-params": "{}" }, {}), /needs --auth-plugin/);
  await assert.rejects(
    clientOptions({ "auth-plugin": "oauth2", "auth-params": '{"client_secret":"s3"}' }, {}),
    (err: unknown) =>
      err instanceof UsageError && /issuerUrl/.test(err.message) && !err.message.includes("s3"),
  );
  await assert.rejects(clientOptions({ "auth-plugin": "kerberos" }, {}), /not supported/);
});

Deno.test("connection: OAuth2 from env plugin/params; one token source for client and admin", async () => {
  const env = {
    PULSAR_AUTH_PLUGIN: "oauth2",
    PULSAR_AUTH_PARAMS: '{"issuerUrl":"https://i.example","privateKey":"file:///c.json"}',
  };
  const client = await clientOptions({}, env);
  assert.equal(client.auth?.methodName, "token");
  const again = await clientOptions({}, env);
  assert.equal(again.auth, client.auth, "the same params share one cached token");
  const admin = await adminOptions("http://x", {}, env);
  assert.equal(typeof admin.token, "function");
});

Deno.test("connection: tlsAllowInsecureConnection=true is refused, not silently ignored", async () => {
  const conf = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(conf, "tlsAllowInsecureConnection=true\n");
    await assert.rejects(
      clientOptions({ "client-conf": conf }, {}),
      (err: unknown) => err instanceof UsageError && /tlsAllowInsecureConnection/.test(err.message),
    );
  } finally {
    await Deno.remove(conf);
  }
});
