import assert from "node:assert/strict";
import { parseProperties, readClientConf } from "./client_conf.ts";
import { InputError } from "../errors.ts";

Deno.test("properties: separators, comments, continuations and escapes as java.util.Properties", () => {
  const props = parseProperties([
    "# comment",
    "! also a comment",
    "  a = 1",
    "b:2",
    "c 3",
    'authParams={"issuerUrl":"https://h:8443/x","privateKey":"file:///c.json"}',
    "long=one \\",
    "    two",
    "esc\\=key=v\\u0041\\tz",
    "empty=",
  ].join("\n"));
  assert.equal(props.get("a"), "1");
  assert.equal(props.get("b"), "2");
  assert.equal(props.get("c"), "3");
  assert.equal(
    props.get("authParams"),
    '{"issuerUrl":"https://h:8443/x","privateKey":"file:///c.json"}',
  );
  assert.equal(props.get("long"), "one two");
  assert.equal(props.get("esc=key"), "vA\tz");
  assert.equal(props.get("empty"), "");
  assert.equal(props.size, 7);
});

Deno.test("client.conf: the connection keys; a missing file is one InputError", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(
      file,
      "webServiceUrl=https://b:8443/\nbrokerServiceUrl=pulsar+ssl://b:6651/\n" +
        "authPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken\n" +
        "authParams=file:///t\ntlsTrustCertsFilePath=/ca.pem\ntlsAllowInsecureConnection=false\n" +
        "useKeyStoreTls=false\n",
    );
    assert.deepEqual(await readClientConf(file), {
      webServiceUrl: "https://b:8443/",
      brokerServiceUrl: "pulsar+ssl://b:6651/",
      authPlugin: "org.apache.pulsar.client.impl.auth.AuthenticationToken",
      authParams: "file:///t",
      tlsTrustCertsFilePath: "/ca.pem",
    });
    await Deno.writeTextFile(file, "tlsAllowInsecureConnection=true\n");
    assert.deepEqual(await readClientConf(file), { tlsAllowInsecureConnection: true });
  } finally {
    await Deno.remove(file);
  }
  await assert.rejects(
    readClientConf("/nonexistent/client.conf"),
    (err: unknown) => err instanceof InputError && /no such file/.test(err.message),
  );
});
