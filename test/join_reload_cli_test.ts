/**
 * `edgepipe filter --join FILE` while the file is replaced: events fed one at a time through a
 * pipe, the file renamed over between them; each event's output shows the version in force. No
 * timing: every step waits for a line on stdout or stderr (generous timeouts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

/** Collects a stream's lines; `waitFor` resolves once `count` lines (or one matching) came. */
function lineCollector(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  let wake: () => void = () => {};
  let closed = false;
  const done = (async () => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      lines.push(...parts.filter((p) => p !== ""));
      wake();
    }
    if (rest !== "") lines.push(rest);
    closed = true;
    wake();
  })();
  const waitFor = async (what: string, ready: () => boolean) => {
    const deadline = Date.now() + 60_000;
    while (!ready()) {
      if (closed || Date.now() > deadline) {
        throw new Error(`${closed ? "closed" : "timed out"} waiting for ${what}: ${lines}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, 1000);
      });
      clearTimeout(timer);
    }
  };
  return { lines, done, waitFor };
}

async function replace(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
}

const airport = (iata: string, city: string) => JSON.stringify({ iata, city }) + "\n";

Deno.test("filter --join reloads the file renamed over it, refuses a broken one", async () => {
  const dir = await Deno.makeTempDir();
  const ref = join(dir, "airports.ndjson");
  await Deno.writeTextFile(ref, airport("SFO", "San Francisco") + airport("LAX", "Los Angeles"));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "filter",
      "--join",
      ref,
      "--on",
      "value.origin=iata",
      "--as",
      "airport",
      "--watch-interval",
      "50ms",
      "event.value.delay >= 0",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = lineCollector(child.stdout);
  const err = lineCollector(child.stderr);
  const writer = child.stdin.getWriter();
  const feed = async (...origins: string[]) => {
    const want = out.lines.length + origins.length;
    const text = origins.map((origin, i) =>
      JSON.stringify({ id: `${origin}-${want - origins.length + i}`, value: { origin, delay: 1 } })
    );
    await writer.write(new TextEncoder().encode(text.join("\n") + "\n"));
    await out.waitFor(`${want} output lines`, () => out.lines.length >= want);
  };
  const cities = () =>
    out.lines.map((l) => (JSON.parse(l) as { airport: { city: string } | null }).airport?.city);
  try {
    await feed("SFO", "JFK");
    // A new version, renamed over the old one: SFO renamed, JFK added.
    await replace(ref, airport("SFO", "SF v2") + airport("JFK", "New York") + airport("X", "x"));
    await err.waitFor("the reload line", () => err.lines.some((l) => /reloaded/.test(l)));
    await feed("SFO", "JFK", "LAX");
    // A broken version (its last line cut short): refused, version 2 stays.
    await replace(ref, airport("SFO", "SF v3") + '{"iata":"JFK","ci');
    await err.waitFor("the refusal line", () => err.lines.some((l) => /refused/.test(l)));
    await feed("SFO", "JFK");
    await writer.close();
    const status = await child.status;
    await Promise.all([out.done, err.done]);
    assert.equal(status.code, 0, err.lines.join("\n"));
    assert.deepEqual(cities(), [
      "San Francisco",
      undefined,
      "SF v2",
      "New York",
      undefined,
      "SF v2",
      "New York",
    ]);
    assert.equal(err.lines.length, 2, err.lines.join("\n"));
    assert.equal(err.lines[0], `edgepipe filter: reloaded ${ref}: 3 keys`);
    assert.match(
      err.lines[1],
      /^edgepipe filter: refused the new .*airports\.ndjson \(the old table/,
    );
    assert.match(err.lines[1], /line 2: .*not valid JSON/);
  } finally {
    await writer.close().catch(() => {});
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("map --join reloads by default; --watch-interval is checked", async () => {
  const dir = await Deno.makeTempDir();
  const ref = join(dir, "airports.ndjson");
  await Deno.writeTextFile(ref, airport("SFO", "San Francisco"));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "map", "--join", ref, "--on", "value.origin=iata"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = lineCollector(child.stdout);
  const err = lineCollector(child.stderr);
  const writer = child.stdin.getWriter();
  const event = new TextEncoder().encode(JSON.stringify({ value: { origin: "SFO" } }) + "\n");
  try {
    await writer.write(event);
    await out.waitFor("the first event", () => out.lines.length === 1);
    await replace(ref, airport("SFO", "SF v2") + airport("LAX", "Los Angeles"));
    await err.waitFor("the reload line", () => err.lines.length === 1);
    await writer.write(event);
    await out.waitFor("the second event", () => out.lines.length === 2);
    await writer.close();
    assert.equal((await child.status).code, 0, err.lines.join("\n"));
    await Promise.all([out.done, err.done]);
    const cities = out.lines.map((l) => JSON.parse(l).ref?.city);
    assert.deepEqual(cities, ["San Francisco", "SF v2"]);
    assert.deepEqual(err.lines, [`edgepipe map: reloaded ${ref}: 2 keys`]);
  } finally {
    await writer.close().catch(() => {});
    await child.status;
  }
  for (
    const [args, message] of [
      [["--join", ref, "--on", "value.origin=iata", "--watch-interval", "soon"], /not a duration/],
      [["--watch-interval", "1s"], /--watch-interval needs --join/],
    ] as const
  ) {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "map", ...args, "event.value"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 2, `usage error for ${args.join(" ")}`);
    assert.match(new TextDecoder().decode(run.stderr), message);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run: a pipeline's join stage reloads its file (watchInterval)", async () => {
  const dir = await Deno.makeTempDir();
  const ref = join(dir, "airports.ndjson");
  await Deno.writeTextFile(ref, airport("SFO", "San Francisco"));
  const pipeline = join(dir, "p.yaml");
  await Deno.writeTextFile(
    pipeline,
    "source: { stdin: {} }\nstages:\n" +
      "  - join: { file: airports.ndjson, on: value.origin=iata, as: airport, watchInterval: 50ms }\n" +
      "sink: stdout\n",
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "run", pipeline],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = lineCollector(child.stdout);
  const err = lineCollector(child.stderr);
  const writer = child.stdin.getWriter();
  const event = new TextEncoder().encode(JSON.stringify({ value: { origin: "SFO" } }) + "\n");
  try {
    await writer.write(event);
    await out.waitFor("the first event", () => out.lines.length === 1);
    await replace(ref, airport("SFO", "SF v2") + airport("LAX", "Los Angeles"));
    await err.waitFor("the reload line", () => err.lines.some((l) => /reloaded/.test(l)));
    await writer.write(event);
    await out.waitFor("the second event", () => out.lines.length === 2);
    await writer.close();
    assert.equal((await child.status).code, 0, err.lines.join("\n"));
    await Promise.all([out.done, err.done]);
    assert.deepEqual(out.lines.map((l) => JSON.parse(l).airport?.city), ["San Francisco", "SF v2"]);
    assert.deepEqual(err.lines.filter((l) => /reload/.test(l)), [
      `edgepipe run: reloaded ${ref}: 2 keys`,
    ]);
  } finally {
    await writer.close().catch(() => {});
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
