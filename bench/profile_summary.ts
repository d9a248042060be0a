/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time per function and per
 * source file, largest first, as percentages of the samples.
 *
 * ```sh
 * deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof cli/main.ts consume … > /dev/null
 * deno run -R bench/profile_summary.ts /tmp/prof/*.cpuprofile [top=25]
 * ```
 *
 * @module
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [path, topText] = Deno.args;
const top = Number(topText ?? 25);
const profile: Profile = JSON.parse(await Deno.readTextFile(path));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const shortUrl = (url: string) =>
  url.replace(/^file:\/\/.*?\/(lib|cli|bench|node_modules)\//, "$1/").replace(/^ext:/, "ext:");
const fn = new Map<string, number>();
const file = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const name = `${functionName || "(anonymous)"} ${shortUrl(url)}${
    url ? `:${lineNumber + 1}` : ""
  }`;
  fn.set(name, (fn.get(name) ?? 0) + us);
  const f = url
    ? shortUrl(url).replace(/^node_modules\/\.deno\/([^/]+)\/.*/, "npm:$1")
    : functionName;
  file.set(f, (file.get(f) ?? 0) + us);
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 1e6).toFixed(2)} s sampled)`);
  for (const [name, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(100 * us / total).toFixed(1).padStart(5)}%  ${name}`);
  }
};
print("self time by function", fn);
print("self time by file", file);
