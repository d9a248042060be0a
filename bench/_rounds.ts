/**
 * Shared pieces of the command-level benchmarks: interleaved rounds (A B A B …, so that a busy
 * neighbour on the shared cores slows both sides alike), medians with ranges, per-round ratios,
 * and the machine state to print next to the results.
 *
 * @module
 */

/** One measured side of a comparison: returns its figure for one round (higher is better). */
export interface Contender {
  name: string;
  run: (round: number) => Promise<number>;
}

/** Runs every contender once per round, in the same order each round; returns figures by name. */
export async function interleave(
  contenders: Contender[],
  rounds: number,
  log: (line: string) => void = (line) => console.error(line),
): Promise<Map<string, number[]>> {
  const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) {
      const value = await contender.run(round);
      results.get(contender.name)!.push(value);
      log(`  round ${round + 1}: ${contender.name}: ${format(value)}`);
    }
  }
  return results;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `median (min–max)` of a series. */
export function spread(values: number[], digits?: number): string {
  const f = (n: number) => format(n, digits);
  return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

/** Round-by-round ratios `ours[i] / theirs[i]` as `median× (min–max)`. */
export function ratio(ours: number[], theirs: number[]): string {
  const ratios = ours.map((v, i) => v / theirs[i]);
  return `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${
    Math.max(...ratios).toFixed(2)
  })`;
}

/** A number for a table: thousands separators above 100, two decimals below. */
export function format(n: number, digits?: number): string {
  if (digits !== undefined) return n.toFixed(digits);
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString("en") : n.toFixed(2);
}

/** Prints a Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const lines = [header, header.map(() => "---"), ...rows];
  return lines.map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** Load average, cores and free memory: the machine state the figures were taken in. */
export async function machineState(): Promise<string> {
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  const mem = Deno.systemMemoryInfo();
  return `${navigator.hardwareConcurrency} cores, load average ${load}, ${
    Math.round(mem.available / 2 ** 20)
  } MiB available, ${new Date().toISOString()}`;
}
