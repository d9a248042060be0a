/**
 * Images through Pulsar: the digits fixture's PNG files produced as raw message bytes by the
 * official Java client (`pulsar-client produce -f`), then `edgepipe consume --payload base64 |
 * edgepipe score` with the model reading the whole message as the image. Every image's
 * probabilities are held to scikit-learn's (the fixture, written by models/train/train_digits.py).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pulsarClient } from "../harness/java_client.ts";
import { pulsarUrls } from "../harness/pulsar.ts";
import { startShellPipe } from "../harness/shell_pipe.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DIGITS = join(ROOT, "models/digits");

Deno.test({
  name: "PNG bytes produced to Pulsar → consume | score: digits equal scikit-learn's",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await pulsarUrls();
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const topic = `persistent://public/default/digits-${id}`;
    const work = await Deno.makeTempDir({ prefix: "edgepipe-digits-" });
    try {
      const fixture = (await Deno.readTextFile(join(DIGITS, "fixture.ndjson")))
        .trim().split("\n").map((l) => JSON.parse(l)).slice(0, 60);
      // The model, reading the message payload itself (consume --payload base64) as the image.
      const model = join(work, "model");
      await Deno.mkdir(model);
      await Deno.copyFile(join(DIGITS, "model.onnx"), join(model, "model.onnx"));
      const spec = JSON.parse(await Deno.readTextFile(join(DIGITS, "spec.json")));
      spec.inputs[0].features[0].path = "value";
      await Deno.writeTextFile(join(model, "spec.json"), JSON.stringify(spec));
      const files: string[] = [];
      for (const [i, line] of fixture.entries()) {
        const file = join(work, `${i}.png`);
        const b64 = line.event.value.png as string;
        await Deno.writeFile(file, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
        files.push(file);
      }
      const produced = await pulsarClient({ serviceUrl: broker.serviceUrl }, [
        "produce",
        topic,
        ...files.flatMap((f) => ["-f", f]),
      ]);

      assert.doesNotMatch(produced, /ERROR|Exception/);
      const pipe = await startShellPipe([
        ["consume", topic, "-s", `digits-${id}`, "-e", "--payload", "base64", "--ack", "none"],
        ["score", "--model", model, "--batch", "16"],
      ], { env: { PULSAR_SERVICE_URL: broker.serviceUrl } });
      const { codes, stderr, stdout } = await pipe.done;
      assert.deepEqual(codes, [0, 0], stderr.join("\n"));
      const scored = stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.score);
      assert.equal(scored.length, fixture.length);
      let worst = 0;
      for (const [i, event] of scored.entries()) {
        // pulsar-client sends the files in order: message i is fixture image i.
        assert.equal(event.value, fixture[i].event.value.png, `message ${i} holds image ${i}`);
        assert.equal(event.score.digit, fixture[i].expected.digit);
        for (let d = 0; d < 10; d++) {
          const gap = Math.abs(event.score[String(d)] - fixture[i].expected[String(d)]);
          worst = Math.max(worst, gap);
        }
      }
      console.log(`digits over Pulsar: max |Δ| vs scikit-learn ${worst.toExponential(2)}`);
      assert.ok(worst < 1e-5, `max gap ${worst}`);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
