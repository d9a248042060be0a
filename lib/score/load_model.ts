/**
 * Loads a model directory (`model.onnx` + `spec.json`) and checks that the spec fits the model:
 * the input's name, element type and column count, and every output the spec names.
 *
 * @module
 */
import { join } from "node:path";
import { ModelError } from "./errors.ts";
import { compileEncoder, loadImageSupport, type RowEncoder } from "./encode_features.ts";
import {
  type InputSpec,
  type ModelSpec,
  modelSpecSchema,
  specColumnCount,
  specInputs,
} from "./model_spec.ts";
import { type OnnxModelInfo, readOnnxModelInfo } from "./onnx_model_info.ts";

/** A model ready to score: its validated spec, its ONNX signature and a compiled encoder. */
export interface LoadedModel {
  /** The model directory. */
  dir: string;
  /** The ONNX file. */
  modelPath: string;
  /**
   * The validated `spec.json`.
   *
   * @internal
   */
  spec: ModelSpec;
  /** What the ONNX file says about itself. */
  info: OnnxModelInfo;
  /** Width of one row of the first input. */
  columns: number;
  /** Every input the spec feeds: name, element type, per-event shape and row width. */
  inputs: LoadedInput[];
  /** `sha256:` and the first 16 hex digits of the SHA-256 of model.onnx: the model's version. */
  version: string;
  /**
   * Encodes one event into a row of features.
   *
   * @internal
   */
  encode: RowEncoder;
}

/** One input of a loaded model. */
export interface LoadedInput {
  /** The input's name in the graph. */
  name: string;
  /** Its element type. */
  type: "float32" | "float64" | "int64" | "int32" | "bool" | "string";
  /** Dimensions of one event's part (without the batch). */
  shape: number[];
  /** Values per event: the product of `shape`. */
  columns: number;
}

/**
 * Reads and checks a model directory. Every problem — a missing or corrupt file, a spec that
 * breaks its schema, a spec that does not match the model — is a {@linkcode ModelError} that
 * names the file and the field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadModel } from "./load_model.ts";
 * const model = await loadModel(new URL("../../models/flight-delay", import.meta.url).pathname);
 * assert.equal(model.columns, 488);
 * ```
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const specPath = join(dir, "spec.json");
  const modelPath = join(dir, "model.onnx");
  const spec = parseSpec(await readText(specPath), specPath);
  const bytes = await readBytes(modelPath);
  const info = readOnnxModelInfo(bytes, modelPath);
  const problems = specMismatches(spec, info);
  if (problems.length > 0) {
    throw new ModelError(`${dir}: spec.json does not match model.onnx: ${problems.join("; ")}`);
  }
  if (specInputs(spec).some((i) => i.features.some((f) => f.kind === "image"))) {
    await loadImageSupport();
  }
  const inputs = specInputs(spec).map((i): LoadedInput => {
    const columns = specColumnCount(i);
    return { name: i.name, type: i.type, shape: i.shape ?? [columns], columns };
  });
  const first = specInputs(spec)[0];
  const { encode } = compileEncoder(first, first.type);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  const version = "sha256:" +
    Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return { dir, modelPath, spec, info, columns: inputs[0].columns, inputs, version, encode };
}

/** Validates `spec.json` text; errors list each offending field by its path. */
export function parseSpec(text: string, source = "spec.json"): ModelSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelError(`${source}: not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const result = modelSpecSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((issue) =>
      `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`
    );
    throw new ModelError(`${source}: invalid spec: ${issues.join("; ")}`, { cause: result.error });
  }
  return result.data;
}

/** Every way the spec and the model disagree, as short sentences (empty when they fit). */
export function specMismatches(spec: ModelSpec, info: OnnxModelInfo): string[] {
  const problems: string[] = [];
  const inputNames = info.inputs.map((i) => i.name);
  const fed = new Set<string>();
  for (const want of specInputs(spec)) {
    fed.add(want.name);
    problems.push(...featureTypeProblems(want));
    const input = info.inputs.find((i) => i.name === want.name);
    if (input === undefined) {
      problems.push(`input '${want.name}' is not in the model (it has: ${inputNames.join(", ")})`);
      continue;
    }
    if (input.type !== want.type) {
      problems.push(`input '${input.name}' is ${input.type}, the spec says ${want.type}`);
    }
    const columns = specColumnCount(want);
    const shape = want.shape ?? [columns];
    const product = shape.reduce((a, b) => a * b, 1);
    if (product !== columns) {
      problems.push(
        `input '${want.name}': the spec's shape [${shape}] holds ${product} values, its features make ${columns}`,
      );
    }
    if (input.shape === undefined) continue;
    const declared = `[${input.shape.join(", ")}]`;
    if (input.shape.length !== shape.length + 1) {
      problems.push(
        `input '${input.name}' is ${declared} (rank ${input.shape.length}), the spec feeds [batch, ${shape}] (rank ${
          shape.length + 1
        })`,
      );
      continue;
    }
    shape.forEach((d, k) => {
      const dim = input.shape![k + 1];
      if (typeof dim !== "number" || dim === d) return;
      problems.push(
        shape.length === 1
          ? `input '${input.name}' takes ${dim} columns, the spec's features make ${d}`
          : `input '${input.name}' is ${declared}: dimension ${
            k + 1
          } is ${dim}, the spec says ${d}`,
      );
    });
  }
  for (const name of inputNames) {
    if (!fed.has(name)) {
      const i = info.inputs.find((x) => x.name === name)!;
      problems.push(
        `model input '${name}' (${i.type} [${i.shape?.join(", ") ?? "?"}]) is not fed by the spec`,
      );
    }
  }
  const outputs = new Map(info.outputs.map((o) => [o.name, o]));
  for (const out of spec.outputs) {
    const found = outputs.get(out.name);
    if (found === undefined) {
      problems.push(
        `output '${out.name}' is not in the model (it has: ${[...outputs.keys()].join(", ")})`,
      );
      continue;
    }
    if (found.type === "non-tensor") {
      problems.push(`output '${out.name}' is not a plain tensor (export with zipmap disabled)`);
    } else if (out.kind === "label" && !/int/.test(found.type) && out.classes !== undefined) {
      problems.push(
        `output '${out.name}' is ${found.type}; a label with classes must be an integer index`,
      );
    } else if (out.kind !== "label" && !found.type.startsWith("float")) {
      problems.push(`output '${out.name}' is ${found.type}, expected a float tensor`);
    }
    const width = found.shape?.[1];
    if (out.kind === "probabilities" && typeof width === "number" && width !== out.classes.length) {
      problems.push(
        `output '${out.name}' has ${width} columns, the spec names ${out.classes.length} classes`,
      );
    }
  }
  return problems;
}

/** Features that an input of its element type cannot hold. */
function featureTypeProblems(input: InputSpec): string[] {
  const problems: string[] = [];
  const integer = input.type === "int64" || input.type === "int32";
  for (const f of input.features) {
    const where = `input '${input.name}' (${input.type}): feature '${f.name}'`;
    if ((f.kind === "text") !== (input.type === "string")) {
      problems.push(
        f.kind === "text"
          ? `${where} is text; text features need a string input`
          : `${where} is ${f.kind}; a string input takes text features only`,
      );
    } else if (f.kind === "image" && (integer || input.type === "bool")) {
      problems.push(`${where} is an image; images need a float input`);
    } else if (
      (f.kind === "numeric" || f.kind === "tensor") && f.scale && (integer || input.type === "bool")
    ) {
      problems.push(`${where} is scaled; a scaled value needs a float input`);
    }
  }
  return problems;
}

async function readText(path: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(path));
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (cause) {
    const why = cause instanceof Deno.errors.NotFound ? "not found" : (cause as Error).message;
    throw new ModelError(`${path}: ${why}`, { cause });
  }
}
