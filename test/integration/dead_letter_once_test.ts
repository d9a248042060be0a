/**
 * Each stage opens its dead-letter target once: bad lines and failing events share one sink, so a
 * topic target has one producer (seen in the broker's topic stats while the stage runs).
 */
import assert from "node:assert/strict";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const ADMIN = Deno.env.get("PULSAR_ADMIN_URL") ?? "http://127.0.0.1:8080";

async function publishers(topic: string): Promise<number> {
  const path = topic.replace("persistent://", "persistent/");
  const response = await fetch(`${ADMIN}/admin/v2/${path}/stats`);
  if (!response.ok) {
    throw new Error(`stats of ${topic}: ${response.status} ${await response.text()}`);
  }
  return ((await response.json()).publishers ?? []).length;
}

const SETUPS: Record<string, (reference: string) => string[]> = {
  map: () => ["map", '{"n": event.value.n}'],
  "filter --join": (reference) => [
    "filter",
    "--join",
    reference,
    "--on",
    "value.code",
    "event.value.n > 0.0",
  ],
  window: () => ["window", "--key", "value.code", "--count", "1"],
};

for (const [name, argsOf] of Object.entries(SETUPS)) {
  Deno.test(`${name} opens its dead-letter topic once`, async () => {
    const reference = await Deno.makeTempFile({ suffix: ".ndjson" });
    await Deno.writeTextFile(reference, '{"code":"a","name":"A"}\n');
    const args = argsOf(reference);
    const topic = `persistent://public/default/dl-once-${crypto.randomUUID()}`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", MAIN, ...args, "--on-error", `dead-letter=${topic}`],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    const stdout = child.stdout.getReader();
    try {
      await writer.write(new TextEncoder().encode('{"id":"a","value":{"n":1,"code":"a"}}\n'));
      // An output line means the stage runs: every sink it opens is open by now.
      const first = await stdout.read();
      assert.ok(!first.done && first.value.length > 0);
      assert.equal(await publishers(topic), 1);
    } finally {
      await writer.close().catch(() => {});
      await stdout.cancel();
      const status = await child.status;
      const stderr = await new Response(child.stderr).text();
      await Deno.remove(reference);
      assert.equal(status.code, 0, stderr);
    }
  });
}
