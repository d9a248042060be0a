/**
 * Loads a model directory (`model.onnx` + `spec.json`) and checks that the spec fits the model:
 * the input's name, element type and column count, and every output the spec names.
 *
 * @module
 */
import { join } from "node:path";
import { ModelError } from "./errors.ts";
import { compileEncoder, type RowEncoder } from "./encode_features.ts";
import { type ModelSpec, modelSpecSchema } from "./model_spec.ts";
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
  /** Width of one input row. */
  columns: number;
  /**
   * Encodes one event into a row of features.
   *
   * @internal
   */
  encode: RowEncoder;
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
  const info = readOnnxModelInfo(await readBytes(modelPath), modelPath);
  const { encode, columns } = compileEncoder(spec);
  const problems = specMismatches(spec, info, columns);
  if (problems.length > 0) {
    throw new ModelError(`${dir}: spec.json does not match model.onnx: ${problems.join("; ")}`);
  }
  return { dir, modelPath, spec, info, columns, encode };
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
export function specMismatches(spec: ModelSpec, info: OnnxModelInfo, columns: number): string[] {
  const problems: string[] = [];
  const inputNames = info.inputs.map((i) => i.name);
  if (info.inputs.length !== 1) {
    problems.push(
      `edgepipe feeds one input tensor, the model has ${info.inputs.length} (${
        inputNames.join(", ")
      })`,
    );
  }
  const input = info.inputs.find((i) => i.name === spec.input.name);
  if (input === undefined) {
    problems.push(
      `input '${spec.input.name}' is not in the model (it has: ${inputNames.join(", ")})`,
    );
  } else {
    if (input.type !== spec.input.type) {
      problems.push(`input '${input.name}' is ${input.type}, the spec says ${spec.input.type}`);
    }
    const width = input.shape?.[1];
    if (input.shape !== undefined && input.shape.length !== 2) {
      problems.push(
        `input '${input.name}' has rank ${input.shape.length}, expected [batch, columns]`,
      );
    } else if (typeof width === "number" && width !== columns) {
      problems.push(
        `input '${input.name}' takes ${width} columns, the spec's features make ${columns}`,
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
