/**
 * consume and produce against a broker with token authentication and TLS: the environment's token
 * and CA work (also a token file), a forged token is one clear line and exit 1.
 */
import assert from "node:assert/strict";
import { sharedSecureBroker } from "../harness/pulsar.ts";
import { runEdgepipe } from "../harness/edgepipe.ts";

async function edgepipe(args: string[], env: Record<string, string>, input?: string) {
  const run = await runEdgepipe(args, { env, stdin: input });
  return { ...run, stderr: run.stderr.trim() };
}

Deno.test({
  name: "tokens and TLS from the environment work; a refused token is one line, exit 1",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await sharedSecureBroker();
    const dir = await Deno.makeTempDir();
    try {
      const secure = broker.secure!;
      const topic = `persistent://public/default/shell-auth-${crypto.randomUUID().slice(0, 8)}`;
      const env = {
        PULSAR_SERVICE_URL: secure.tlsServiceUrl,
        PULSAR_AUTH_TOKEN: secure.adminToken,
        PULSAR_TLS_CA: secure.caCertFile,
      };
      const sent = await edgepipe(["produce", topic, "--input", "lines"], env, "one\ntwo\n");
      assert.equal(sent.code, 0, sent.stderr);
      await Deno.writeTextFile(`${dir}/token`, secure.adminToken + "\n");
      const read = await edgepipe(
        ["consume", topic, "-e", "-f", "%s\n", "--token", `file:${dir}/token`],
        { ...env, PULSAR_AUTH_TOKEN: "" },
      );
      assert.equal(read.code, 0, read.stderr);
      assert.equal(read.stdout, "one\ntwo\n");

      const forged = secure.adminToken.replace(
        /\.[^.]+$/,
        ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      );
      for (const command of [["consume", topic, "-s", "x", "-e"], ["produce", topic]]) {
        const refused = await edgepipe(
          [...command, "--service-url", broker.serviceUrl],
          { PULSAR_AUTH_TOKEN: forged },
          command[0] === "produce" ? "three\n" : undefined,
        );
        assert.equal(refused.code, 1, refused.stderr);
        assert.equal(refused.stderr.split("\n").length, 1, refused.stderr);
        assert.match(refused.stderr, new RegExp(`^edgepipe ${command[0]}: .*authenticat`, "i"));
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
