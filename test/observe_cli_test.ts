/**
 * Metrics of the stage commands, scraped while they run and parsed with the Prometheus project's
 * own Python client (`prometheus_client.parser`), against the events this test sent; and
 * `edgepipe top` in a real terminal (tmux) over a running four-stage pipe, its screen captured.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, scrape } from "./harness/prometheus.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const QUIET_HOUR = new URL("../examples/functions/quiet_hour.ts", import.meta.url).pathname;
const FLIGHTS = new URL("./fixtures/windows/flights_events.ndjson", import.meta.url).pathname;

const EVENTS = Array.from({ length: 40 }, (_, n) => ({
  id: `e${n}`,
  eventTime: 1_000 + n * 1000,
  value: { n, k: n % 2 ? "odd" : "even", kind: n % 4 === 0 ? "dep" : "arr", delay: n },
}));

const cases: { name: string; args: string[]; out: number; acks: number }[] = [
  { name: "map", args: ["map", "event.value"], out: 40, acks: 0 },
  // 14 of n in 0..39 are > 25; the 26 dropped are acknowledged in-band.
  { name: "filter", args: ["filter", "event.value.n > 25.0"], out: 14, acks: 26 },
  // Count windows of 10 per key (20 events each): 4 results; their 40 ids are acknowledged.
  { name: "window", args: ["window", "--key", "value.k", "--count", "10"], out: 4, acks: 40 },
  // Per key, one hour window: "even" has 10 deps (n % 4 == 0) and 10 arrs (n % 4 == 2), 100
  // pairs; "odd" has no deps. Every event is absorbed, and acknowledged once its window closes.
  {
    name: "join",
    args: [
      "join",
      "--left",
      'event.value.kind == "dep"',
      "--right",
      'event.value.kind == "arr"',
      "--key",
      "value.k",
      "--tumbling",
      "1h",
    ],
    out: 100,
    acks: 40,
  },
  {
    name: "pattern",
    args: [
      "pattern",
      "--key",
      "value.k",
      "--within",
      "1h",
      "--define",
      'a=event.value.kind == "dep"',
      "--pattern",
      "a{2}",
    ],
    // Per key: "even" has the deps (n % 4 == 0: 10 of them) → overlapping pairs: 9 matches.
    out: 9,
    acks: 40,
  },
];

for (const c of cases) {
  Deno.test(`${c.name} --metrics: counters equal what went through, read by prometheus_client`, async () => {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...c.args, "--metrics", String(port), "--stats"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(EVENTS.map((e) => JSON.stringify(e)).join("\n") + "\n"),
    );
    // While the input stays open, the counters must reach the events sent.
    let metrics: Record<string, number> = {};
    for (let tries = 0; tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await scrape(port).catch(() => ({}));
      if (metrics.edgepipe_events_in_total === EVENTS.length) break;
    }
    assert.equal(metrics.edgepipe_events_in_total, EVENTS.length, JSON.stringify(metrics));
    await writer.close();
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
    const results = lines.filter((l) => !("$edgepipe" in l));
    const acked = lines.filter((l) => l.$edgepipe === "ack").flatMap((l) => l.ids);
    // What came out is what the stage's own output holds, and what the test expects.
    assert.equal(results.length, c.out);
    assert.equal(acked.length, c.acks);
    assert.ok(metrics.edgepipe_events_out_total <= c.out);
    assert.ok(metrics.edgepipe_event_time_lag_seconds > 0);
    // The last --stats line has the final counts, equal to the output's own.
    const last = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)!;
    const count = (name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(last)?.[1]);
    assert.deepEqual([count("in"), count("out"), count("acks")], [40, c.out, c.acks], last);
  });
}

Deno.test("process --metrics and --stats: the final stats line counts every event", async () => {
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      `exec '${Deno.execPath()}' run -A '${MAIN}' process '${QUIET_HOUR}' --key value.origin --stats < '${FLIGHTS}'`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const flights = (await Deno.readTextFile(FLIGHTS)).trim().split("\n").length;
  const results = new TextDecoder().decode(out.stdout).trim().split("\n")
    .filter((l) => !l.includes('"$edgepipe"')).length;
  assert.match(
    stderr.trim().split("\n").at(-1)!,
    new RegExp(`^edgepipe process: in=${flights} .*out=${results}\\b`),
  );
});

Deno.test({
  name: "top in a real terminal: a running four-stage pipe, its stages and their rates",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ports = [freePort(), freePort(), freePort(), freePort()];
    const dir = await Deno.makeTempDir({ prefix: "edgepipe-top-" });
    const ep = `'${Deno.execPath()}' run -A '${MAIN}'`;
    const pipe = [
      `${ep} replay '${FLIGHTS}' --rate 300/s -c 2000 --metrics ${ports[0]}`,
      `${ep} filter 'event.value.delay > -1000.0' --metrics ${ports[1]}`,
      `${ep} map 'event.value' --set value --metrics ${ports[2]}`,
      `${ep} window --key value.origin --count 5 --metrics ${ports[3]} > /dev/null`,
    ].join(" | ");
    const session = `edgepipe-top-${crypto.randomUUID().slice(0, 8)}`;
    const tmux = (...args: string[]) =>
      new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
    const pipeChild = new Deno.Command("sh", { args: ["-c", pipe], stdout: "null", stderr: "null" })
      .spawn();
    try {
      const started = await tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "120",
        "-y",
        "20",
        `${ep} top ${ports.join(" ")} --interval 500ms`,
      );
      assert.equal(started.code, 0, new TextDecoder().decode(started.stderr));
      let screen = "";
      for (let tries = 0; tries < 40; tries++) {
        await new Promise((r) => setTimeout(r, 250));
        screen = new TextDecoder().decode((await tmux("capture-pane", "-p", "-t", session)).stdout);
        // Each stage's rate needs two samples of its own endpoint: wait until every row has one.
        const rate = (stage: string, column: number) =>
          Number(
            screen.split("\n").find((l) => l.startsWith(`${stage} `))?.trim().split(/\s+/)[column],
          );
        if (rate("replay", 3) > 0 && ["filter", "map", "window"].every((s) => rate(s, 2) > 0)) {
          break;
        }
      }
      await Deno.writeTextFile(join(dir, "screen.txt"), screen);
      assert.match(screen, /edgepipe top — 4 stages/);
      const rows = screen.split("\n").filter((l) => /^(replay|filter|map|window) /.test(l));
      assert.deepEqual(
        rows.map((r) => r.split(/\s+/)[0]),
        ["replay", "filter", "map", "window"],
        screen,
      );
      // filter, map and window read events; their IN/s column (the third) is above 0.
      for (const row of rows.slice(1)) {
        assert.ok(Number(row.trim().split(/\s+/)[2]) > 0, `no input rate in: ${row}\n${screen}`);
      }
      assert.ok(Number(rows[0].trim().split(/\s+/)[3]) > 0, `replay writes nothing: ${screen}`);
    } finally {
      await tmux("kill-session", "-t", session);
      // The replay stops after 2,000 events (under 7 s), and the pipe with it.
      await pipeChild.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("replay --metrics: events out while it runs, read by prometheus_client", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "replay",
      FLIGHTS,
      "--rate",
      "100/s",
      "-c",
      "150",
      "--metrics",
      String(port),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Paced at 100/s, the 150 events take 1.5 s: the count is read while it grows.
  let metrics: Record<string, number> = {};
  for (let tries = 0; tries < 100 && !(metrics.edgepipe_events_out_total >= 50); tries++) {
    await new Promise((r) => setTimeout(r, 50));
    metrics = await scrape(port).catch(() => ({}));
  }
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const written = new TextDecoder().decode(out.stdout).trim().split("\n")
    .filter((l) => !("$edgepipe" in JSON.parse(l)));
  assert.equal(written.length, 150);
  assert.ok(
    metrics.edgepipe_events_out_total >= 50 && metrics.edgepipe_events_out_total < 150,
    JSON.stringify(metrics),
  );
});
