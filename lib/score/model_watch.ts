/**
 * `score --watch`: polls a model directory and, when its `model.onnx` or `spec.json` (or the
 * directory a symlink points to) has changed and then stayed the same for one more poll, loads the
 * new pair and starts its sessions — the same checks as at start-up, warm-up run included — while
 * the old model keeps scoring. The score stage takes the ready engine between two batches. A
 * pair that fails a check is refused with one line and not tried again until it changes.
 *
 * Replace a model by writing each file under a temporary name and renaming it into place (first
 * model.onnx, then spec.json), or by pointing a symlink at a new directory (`ln -sfn` + `mv -T`).
 *
 * @module
 */
import { join } from "node:path";
import { describeError } from "../errors.ts";
import { type EngineSettings, ScoringEngine } from "./engine.ts";
import { loadModel } from "./load_model.ts";

/** How to watch. */
export interface WatchOptions {
  /** The model directory (as given: a symlink is followed on every poll). */
  dir: string;
  /** Milliseconds between polls. */
  intervalMs: number;
  settings: EngineSettings;
  /** One line on stderr (refusals). */
  warn: (message: string) => void;
}

/** Watches a model directory; see the module doc. */
export class ModelWatcher {
  #options: WatchOptions;
  #seen: string;
  /** The fingerprint being served (or refused): not loaded again. */
  #settled: string;
  #ready: ScoringEngine | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  private constructor(options: WatchOptions, fingerprint: string) {
    this.#options = options;
    this.#seen = fingerprint;
    this.#settled = fingerprint;
    this.#schedule();
  }

  /** Starts watching; the pair on disk now is the one being served. */
  static async start(options: WatchOptions): Promise<ModelWatcher> {
    return new ModelWatcher(options, await fingerprint(options.dir));
  }

  /** The engine of a newly loaded model, once; undefined when there is none. */
  take(): ScoringEngine | undefined {
    const engine = this.#ready;
    this.#ready = undefined;
    return engine;
  }

  /** Stops polling; an engine loaded and not taken is closed. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#ready?.close();
    this.#ready = undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#poll(), this.#options.intervalMs);
  }

  async #poll(): Promise<void> {
    try {
      const now = await fingerprint(this.#options.dir);
      const stable = now === this.#seen;
      this.#seen = now;
      if (stable && now !== this.#settled) {
        this.#settled = now;
        await this.#load();
      }
    } catch (err) {
      this.#options.warn(`edgepipe score: --watch: ${describeError(err)}`);
    } finally {
      this.#schedule();
    }
  }

  async #load(): Promise<void> {
    const { dir, settings, warn } = this.#options;
    let engine: ScoringEngine;
    try {
      const model = await loadModel(dir);
      engine = await ScoringEngine.start(model, settings);
    } catch (err) {
      warn(
        `edgepipe score: refused the new model in ${dir} (the current one keeps scoring): ${
          describeError(err)
        }`,
      );
      return;
    }
    if (this.#closed) {
      engine.close();
      return;
    }
    // A newer one replaces a ready one not yet taken.
    this.#ready?.close();
    this.#ready = engine;
  }
}

/** What identifies the pair on disk: where the directory resolves and each file's stat. */
async function fingerprint(dir: string): Promise<string> {
  const real = await Deno.realPath(dir).catch(() => dir);
  const parts = [real];
  for (const name of ["model.onnx", "spec.json"]) {
    try {
      const s = await Deno.stat(join(real, name));
      parts.push(`${s.ino}:${s.size}:${s.mtime?.getTime()}:${s.ctime?.getTime?.() ?? ""}`);
    } catch {
      parts.push("missing");
    }
  }
  return parts.join("|");
}
