/**
 * Reads a pipeline file: YAML (or JSON, which is YAML) validated against
 * {@linkcode pipelineSchema}. Every problem is reported as `file:line:column: path: problem`.
 * String values may name environment variables: `${BUCKET}`, or `${OUT:-out}` with a default.
 *
 * @module
 */
import { isMap, isSeq, LineCounter, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { InputError } from "../errors.ts";
import { type PipelineConfig, pipelineSchema } from "./schema.ts";

/** A pipeline file that cannot be read, parsed or validated. */
export class PipelineFileError extends InputError {
  /** Every problem found, one line each. */
  readonly problems: string[];

  /** One error for every problem found in the file. */
  constructor(problems: string[], options: ErrorOptions = {}) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems[0]} (and ${problems.length - 1} more: ${problems.slice(1).join("; ")})`,
      options,
    );
    this.problems = problems;
  }
}

/**
 * Parses and validates pipeline text; `name` is used in messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePipeline, PipelineFileError } from "./load_pipeline.ts";
 * const ok = parsePipeline("source: { stdin: {} }\nsink: stdout\n", "p.yaml");
 * assert.equal(ok.sink, "stdout");
 * assert.throws(
 *   () => parsePipeline("source: { stdin: {} }\nsink: stdout\nstages:\n  - filtr: x\n", "p.yaml"),
 *   (err) => err instanceof PipelineFileError && err.message.startsWith("p.yaml:4:5: stages[0]:"),
 * );
 * ```
 */
export function parsePipeline(
  text: string,
  name: string,
  env: (name: string) => string | undefined = (variable) => Deno.env.get(variable),
): PipelineConfig {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new PipelineFileError(document.errors.map((error) => {
      const at = error.linePos?.[0];
      const where = at ? `${name}:${at.line}:${at.col}` : name;
      return `${where}: invalid YAML: ${
        error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")
      }`;
    }));
  }
  const unset: string[] = [];
  visit(document, {
    Scalar(_key, node) {
      if (typeof node.value !== "string" || !node.value.includes("${")) return;
      node.value = node.value.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
        (_match, variable: string, fallback: string | undefined) => {
          const value = env(variable) ?? fallback;
          if (value === undefined) {
            const at = node.range ? lines.linePos(node.range[0]) : undefined;
            unset.push(
              `${name}${
                at ? `:${at.line}:${at.col}` : ""
              }: \${${variable}} is not set (give a default with \${${variable}:-…})`,
            );
            return "";
          }
          return value;
        },
      );
    },
  });
  if (unset.length > 0) throw new PipelineFileError(unset);
  const raw = document.toJS();
  const result = pipelineSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  throw new PipelineFileError(
    flatten(result.error.issues, raw).map(({ issue, path }) => {
      const where = locate(document, lines, path);
      return `${name}${where}: ${formatPath(path) || "(top level)"}: ${describeIssue(issue)}`;
    }),
  );
}

/** Reads and validates a pipeline file. */
export async function loadPipeline(path: string): Promise<PipelineConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (cause) {
    const reason = cause instanceof Deno.errors.NotFound
      ? "no such file"
      : (cause as Error).message;
    throw new PipelineFileError([`cannot read ${path}: ${reason}`], { cause });
  }
  return parsePipeline(text, path);
}

function formatPath(path: (string | number)[]): string {
  return path.map((part, i) => typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`)
    .join("");
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `'${k}'`).join(", ");
    return `unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}`;
  }
  return issue.message;
}

type Located = { issue: z.core.$ZodIssue; path: (string | number)[] };

/**
 * Sources, stages and sinks are unions keyed by their one field (`replay:`, `window:`). When the
 * key names a known branch, the problems inside that branch are the ones worth reporting, rather
 * than "expected one of …".
 */
function flatten(
  issues: z.core.$ZodIssue[],
  raw: unknown,
  prefix: (string | number)[] = [],
): Located[] {
  const out: Located[] = [];
  for (const issue of issues) {
    const path = [
      ...prefix,
      ...issue.path.filter((p): p is string | number => typeof p !== "symbol"),
    ];
    if (issue.code === "invalid_union") {
      const value = valueAt(raw, path);
      const branch = issue.errors.find((branchIssues) =>
        branchIssues.length > 0 &&
        branchIssues.every((inner) => inner.path.length > 0 && hasKey(value, inner.path[0]))
      );
      if (branch) {
        out.push(...flatten(branch, raw, path));
        continue;
      }
    }
    out.push({ issue, path });
  }
  return out;
}

function hasKey(value: unknown, key: PropertyKey): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof key === "string" && key in value;
}

function valueAt(raw: unknown, path: (string | number)[]): unknown {
  let current = raw;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

/** `:line:column` of the deepest node of `path` that exists in the document. */
function locate(
  document: ReturnType<typeof parseDocument>,
  lines: LineCounter,
  path: (string | number)[],
): string {
  let node: unknown = document.contents;
  let found = node;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown })?.value === part);
      node = pair?.value ?? undefined;
      if (pair) found = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof part === "number") {
      node = node.items[part];
      if (node) found = node;
    } else break;
    if (node === undefined) break;
  }
  const range = (found as { range?: [number, number, number] } | null)?.range;
  if (!range) return "";
  const pos = lines.linePos(range[0]);
  return `:${pos.line}:${pos.col}`;
}
