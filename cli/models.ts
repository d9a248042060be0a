/**
 * `edgepipe models inspect|check`: what a model file declares, and whether a model directory's
 * spec fits its model.
 *
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../lib/errors.ts";
import { ModelError } from "../lib/score/errors.ts";
import { loadModel, parseSpec } from "../lib/score/load_model.ts";
import { type FeatureSpec, specColumnCount, specInputs } from "../lib/score/model_spec.ts";
import { newInputBuffer } from "../lib/score/encode_features.ts";
import {
  type OnnxModelInfo,
  readOnnxModelInfo,
  type TensorInfo,
} from "../lib/score/onnx_model_info.ts";
import { OnnxWorker } from "../lib/score/onnx_worker.ts";
import { type Command, EXIT, parseFlags } from "./_command.ts";

const help = `edgepipe models — inspect and check ONNX models

Usage:
  edgepipe models inspect <dir|model.onnx> [--json]
  edgepipe models check <dir>

inspect  prints the model's inputs and outputs (names, element types, shapes), opsets, producer
         and metadata, read from the ONNX file itself; for a directory also its spec's features.
check    validates <dir>/spec.json against its schema and against <dir>/model.onnx (input name,
         element type, column count, output names and types), then loads the model in
         onnxruntime and runs one batch. Exit 0 when it fits, 1 with every problem listed.

Examples:
  edgepipe models inspect models/flight-delay
  edgepipe models inspect models/earthquake-magnitude/model.onnx --json
  edgepipe models check models/flight-delay`;

/** The `models` command. */
export const command: Command = {
  name: "models",
  summary: "Inspect ONNX models and check model specs",
  help,
  async run(args) {
    const { values, positionals } = parseFlags("models", args, {
      json: { type: "boolean", default: false },
    });
    const [action, target, ...extra] = positionals;
    if (action !== "inspect" && action !== "check") {
      throw new UsageError("models: expected 'inspect <dir|file>' or 'check <dir>' (see --help)");
    }
    if (target === undefined) throw new UsageError(`models ${action}: expected a model path`);
    if (extra.length > 0) throw new UsageError(`models ${action}: unexpected '${extra[0]}'`);
    return action === "inspect" ? await inspect(target, values.json!) : await check(target);
  },
};

async function inspect(target: string, asJson: boolean): Promise<number> {
  const isDir = await Deno.stat(target).then((s) => s.isDirectory, (cause) => {
    throw new ModelError(
      `${target}: ${cause instanceof Deno.errors.NotFound ? "not found" : cause.message}`,
      { cause },
    );
  });
  const modelPath = isDir ? join(target, "model.onnx") : target;
  const bytes = await Deno.readFile(modelPath).catch((cause) => {
    throw new ModelError(
      `${modelPath}: ${cause instanceof Deno.errors.NotFound ? "not found" : cause.message}`,
      { cause },
    );
  });
  const info = readOnnxModelInfo(bytes, modelPath);
  // A bare directory without spec.json is still worth inspecting: the spec part is optional.
  const specText = isDir
    ? await Deno.readTextFile(join(target, "spec.json")).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    })
    : undefined;
  const spec = specText === undefined ? undefined : parseSpec(specText, join(target, "spec.json"));
  if (asJson) {
    console.log(JSON.stringify({ path: modelPath, bytes: bytes.length, ...info, spec }, null, 2));
    return EXIT.ok;
  }
  console.log(describeModel(modelPath, bytes.length, info));
  if (spec !== undefined) {
    console.log(`\nspec ${spec.name} ${spec.version}:`);
    for (const input of specInputs(spec)) {
      console.log(
        `${input.features.length} features → ${
          specColumnCount(input)
        } columns of '${input.name}' (${input.type}${input.shape ? ` [${input.shape}]` : ""})`,
      );
      for (const f of input.features) {
        const transform = "transform" in f && f.transform ? ` (${f.transform})` : "";
        console.log(
          `  ${f.name.padEnd(24)} ${(f.path + transform).padEnd(36)} ${describeFeature(f)}`,
        );
      }
    }
    console.log(`  outputs: ${spec.outputs.map((o) => `${o.name} as ${o.kind}`).join(", ")}`);
  }
  return EXIT.ok;
}

function describeFeature(f: FeatureSpec): string {
  switch (f.kind) {
    case "numeric":
      return `numeric${f.scale ? `, ${f.scale.kind} scaling` : ""}${
        f.default !== undefined ? `, default ${f.default}` : ""
      }`;
    case "categorical":
      return `categorical, ${f.encoding} over ${f.vocabulary.length} values, unknown → ${f.unknown}`;
    case "tensor":
      return `tensor of ${f.length}, pad ${f.pad}, truncate ${f.truncate}${
        f.scale ? `, ${f.scale.kind} scaling` : ""
      }`;
    case "image":
      return `image ${f.width}×${f.height}×${f.channels} ${f.layout}`;
    case "text":
      return `text${f.default !== undefined ? `, default ${JSON.stringify(f.default)}` : ""}`;
  }
}

function describeModel(path: string, size: number, info: OnnxModelInfo): string {
  const tensor = (t: TensorInfo) =>
    `  ${t.name.padEnd(24)} ${t.type.padEnd(10)} ${
      t.shape ? `[${t.shape.join(", ")}]` : "(no shape)"
    }`;
  const lines = [
    `${path} (${size} bytes)`,
    `  IR version ${info.irVersion}; opsets ${
      Object.entries(info.opsets).map(([d, v]) => `${d || "ai.onnx"} ${v}`).join(", ")
    }`,
    `  producer ${
      info.producer || "(none)"
    }; model version ${info.modelVersion}; graph ${info.graphName} (${info.nodeCount} nodes)`,
  ];
  if (info.docString) lines.push(`  doc: ${info.docString}`);
  for (const [k, v] of Object.entries(info.metadata)) lines.push(`  metadata ${k} = ${v}`);
  lines.push("inputs:", ...info.inputs.map(tensor), "outputs:", ...info.outputs.map(tensor));
  return lines.join("\n");
}

async function check(dir: string): Promise<number> {
  const model = await loadModel(dir);
  let worker: OnnxWorker | undefined;
  try {
    worker = await OnnxWorker.start({
      modelPath: model.modelPath,
      inputs: model.inputs.map((i) => ({ name: i.name, type: i.type, shape: i.shape })),
      outputNames: model.spec.outputs.map((o) => o.name),
      batchSize: 2,
      threads: 1,
    });
    const { outputs } = await worker.run(
      model.inputs.map((i) => newInputBuffer(i.type, 2 * i.columns)),
    );
    for (const [i, out] of model.spec.outputs.entries()) {
      const got = outputs[i];
      if (got.dims[0] !== 2) {
        throw new ModelError(
          `${dir}: output '${out.name}' has ${got.dims[0]} rows for a batch of 2`,
        );
      }
    }
  } finally {
    worker?.close();
  }
  const { spec } = model;
  console.log(
    `ok: ${dir}: ${spec.name} ${spec.version}, ${
      specInputs(spec).map((i) =>
        `${i.features.length} features → ${specColumnCount(i)} columns of '${i.name}'`
      ).join(", ")
    }, outputs ${spec.outputs.map((o) => o.name).join(", ")} (${model.version})`,
  );
  return EXIT.ok;
}
