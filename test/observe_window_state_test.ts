/**
 * `window --metrics` with checkpoints: the state gauges (open windows, keys, watermark lag), late
 * events and the checkpoints' duration and size, scraped while it runs and parsed with the
 * Prometheus project's own client, against the events sent and the checkpoint files on disk.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, scrape } from "./harness/prometheus.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const BASE = 1_000_000;
/** 30 events, one a second, keys a, b, c in turn: tumbling 10 s windows. */
const ON_TIME = Array.from({ length: 30 }, (_, n) => ({
  id: `e${n}`,
  eventTime: BASE + n * 1000,
  value: { k: "abc"[n % 3] },
}));
/** After them the watermark is BASE + 29 s: events of the first window are late. */
const LATE = Array.from({ length: 4 }, (_, n) => ({
  id: `late${n}`,
  eventTime: BASE + 500 + n,
  value: { k: "abc"[n % 3] },
}));

/** The newest checkpoint file: its generation and size. */
async function newestCheckpoint(dir: string): Promise<{ generation: number; size: number }> {
  let newest = { generation: 0, size: 0 };
  for await (const entry of Deno.readDir(dir)) {
    const match = /^checkpoint-(\d{12})\.ckpt$/.exec(entry.name);
    if (!match || Number(match[1]) < newest.generation) continue;
    newest = { generation: Number(match[1]), size: (await Deno.stat(join(dir, entry.name))).size };
  }
  return newest;
}

Deno.test("window --metrics: state, watermark lag, late events and checkpoints, by prometheus_client", async () => {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "edgepipe-window-metrics-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "window",
      "--key",
      "value.k",
      "--tumbling",
      "10s",
      "--checkpoint-dir",
      dir,
      "--checkpoint-interval",
      "100ms",
      "--metrics",
      String(port),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const writer = child.stdin.getWriter();
    const lines = [...ON_TIME, ...LATE].map((e) => JSON.stringify(e)).join("\n") + "\n";
    await writer.write(new TextEncoder().encode(lines));
    // While the input stays open: every event counted and a checkpoint of them written; then
    // two scrapes with the same checkpoint count, so that the files on disk are that state's.
    let metrics: Record<string, number> = {};
    let previous: Record<string, number> = {};
    let onDisk = { generation: 0, size: 0 };
    for (let tries = 0; tries < 150; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      previous = metrics;
      metrics = await scrape(port).catch(() => ({}));
      onDisk = await newestCheckpoint(dir);
      const count = metrics.edgepipe_checkpoint_seconds_count;
      if (
        metrics.edgepipe_events_in_total === ON_TIME.length + LATE.length && count >= 1 &&
        count === previous.edgepipe_checkpoint_seconds_count && onDisk.generation === count
      ) break;
    }
    const wallLag = (Date.now() - (BASE + 29_000)) / 1000;
    assert.equal(metrics.edgepipe_events_in_total, 34, JSON.stringify(metrics));
    // [20 s, 30 s) is open for each of the three keys; the two windows before it have fired.
    assert.equal(metrics.edgepipe_window_open_windows, 3, JSON.stringify(metrics));
    assert.equal(metrics.edgepipe_window_keys, 3);
    assert.equal(metrics.edgepipe_late_events_total, LATE.length);
    // Wall clock minus the watermark (BASE + 29 s), a little older by the time it was read.
    const lag = metrics.edgepipe_watermark_lag_seconds;
    assert.ok(lag <= wallLag && lag > wallLag - 60, `lag ${lag}, wall clock says ${wallLag}`);
    // One histogram observation per checkpoint file written, the last one's size on disk.
    assert.equal(metrics.edgepipe_checkpoint_seconds_count, onDisk.generation);
    assert.equal(metrics.edgepipe_checkpoint_bytes, onDisk.size);
    assert.ok(onDisk.size > 0);
    assert.equal(
      metrics["edgepipe_checkpoint_seconds_bucket{le=+Inf}"],
      metrics.edgepipe_checkpoint_seconds_count,
    );
    assert.ok(metrics.edgepipe_checkpoint_seconds_sum > 0);
    await writer.close();
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
