/**
 * Reads what an ONNX file declares — inputs, outputs, opsets, producer and metadata — straight
 * from its protobuf bytes, without loading onnxruntime. `edgepipe models inspect` prints it and
 * `loadModel` checks a spec against it; a file that does not parse is reported as corrupt.
 *
 * Wire grammar used (onnx.proto3, field numbers):
 * ModelProto { ir_version 1; producer_name 2; producer_version 3; domain 4; model_version 5;
 *   doc_string 6; graph 7; opset_import 8 { domain 1; version 2 }; metadata_props 14 { key 1;
 *   value 2 } }
 * GraphProto { node 1; name 2; initializer 5; input 11; output 12 }
 * ValueInfoProto { name 1; type 2 } — TypeProto { tensor_type 1 { elem_type 1; shape 2 { dim 1
 *   { dim_value 1; dim_param 2 } } } }
 *
 * @module
 */
import { ModelError } from "./errors.ts";

/** One graph input or output. `shape` has numbers for fixed sizes and names for symbolic ones. */
export interface TensorInfo {
  /** The tensor's name in the graph. */
  name: string;
  /** `float32`, `int64`, `string`, … or `non-tensor` (sequences and maps). */
  type: string;
  /** Dimensions, when the file declares them. */
  shape: (number | string)[] | undefined;
}

/** What an ONNX file says about itself. */
export interface OnnxModelInfo {
  /** ONNX IR version. */
  irVersion: number;
  /** The tool that wrote the file, with its version. */
  producer: string;
  /** The model's own version number. */
  modelVersion: number;
  /** The model's description. */
  docString: string;
  /** Name of the main graph. */
  graphName: string;
  /** Operator set versions by domain (`""` is the default ONNX domain). */
  opsets: Record<string, number>;
  /** Metadata properties of the model. */
  metadata: Record<string, string>;
  /** The graph's inputs. */
  inputs: TensorInfo[];
  /** The graph's outputs. */
  outputs: TensorInfo[];
  /** Nodes in the main graph. */
  nodeCount: number;
}

const ELEMENT_TYPES = [
  "undefined",
  "float32",
  "uint8",
  "int8",
  "uint16",
  "int16",
  "int32",
  "int64",
  "string",
  "bool",
  "float16",
  "float64",
  "uint32",
  "uint64",
  "complex64",
  "complex128",
  "bfloat16",
];

/**
 * Parses an ONNX model's header and graph signature; throws {@linkcode ModelError} when the bytes
 * are not an ONNX model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOnnxModelInfo } from "./onnx_model_info.ts";
 * const bytes = await Deno.readFile(new URL("../../models/flight-delay/model.onnx", import.meta.url));
 * const info = readOnnxModelInfo(bytes);
 * assert.equal(info.inputs[0].name, "features");
 * ```
 */
export function readOnnxModelInfo(bytes: Uint8Array, source = "model.onnx"): OnnxModelInfo {
  const info: OnnxModelInfo = {
    irVersion: 0,
    producer: "",
    modelVersion: 0,
    docString: "",
    graphName: "",
    opsets: {},
    metadata: {},
    inputs: [],
    outputs: [],
    nodeCount: 0,
  };
  let sawGraph = false;
  try {
    let producerVersion = "";
    for (const f of fields(bytes)) {
      if (f.number === 1) info.irVersion = Number(f.varint);
      else if (f.number === 2) info.producer = text(f.bytes);
      else if (f.number === 3) producerVersion = text(f.bytes);
      else if (f.number === 5) info.modelVersion = Number(f.varint);
      else if (f.number === 6) info.docString = text(f.bytes);
      else if (f.number === 7) {
        sawGraph = true;
        readGraph(f.bytes!, info);
      } else if (f.number === 8) {
        let domain = "";
        let version = 0;
        for (const g of fields(f.bytes!)) {
          if (g.number === 1) domain = text(g.bytes);
          else if (g.number === 2) version = Number(g.varint);
        }
        info.opsets[domain] = version;
      } else if (f.number === 14) {
        let key = "";
        let value = "";
        for (const g of fields(f.bytes!)) {
          if (g.number === 1) key = text(g.bytes);
          else if (g.number === 2) value = text(g.bytes);
        }
        info.metadata[key] = value;
      }
    }
    if (producerVersion) info.producer = `${info.producer} ${producerVersion}`.trim();
  } catch (cause) {
    throw new ModelError(`${source}: not an ONNX model (corrupt or truncated protobuf)`, { cause });
  }
  if (!sawGraph || info.irVersion === 0 || info.inputs.length === 0) {
    throw new ModelError(`${source}: not an ONNX model (no graph or IR version)`);
  }
  return info;
}

function readGraph(bytes: Uint8Array, info: OnnxModelInfo): void {
  const initializers = new Set<string>();
  const inputs: TensorInfo[] = [];
  for (const f of fields(bytes)) {
    if (f.number === 1) info.nodeCount++;
    else if (f.number === 2) info.graphName = text(f.bytes);
    else if (f.number === 5) {
      for (const g of fields(f.bytes!)) if (g.number === 8) initializers.add(text(g.bytes));
    } else if (f.number === 11) inputs.push(readValueInfo(f.bytes!));
    else if (f.number === 12) info.outputs.push(readValueInfo(f.bytes!));
  }
  // Older exporters list initializers among the inputs; they are weights, not inputs to feed.
  info.inputs = inputs.filter((i) => !initializers.has(i.name));
}

function readValueInfo(bytes: Uint8Array): TensorInfo {
  const value: TensorInfo = { name: "", type: "non-tensor", shape: undefined };
  for (const f of fields(bytes)) {
    if (f.number === 1) value.name = text(f.bytes);
    else if (f.number === 2) {
      for (const t of fields(f.bytes!)) {
        if (t.number !== 1) continue;
        for (const tt of fields(t.bytes!)) {
          if (tt.number === 1) value.type = ELEMENT_TYPES[Number(tt.varint)] ?? "unknown";
          else if (tt.number === 2) {
            value.shape = [];
            for (const d of fields(tt.bytes!)) {
              if (d.number !== 1) continue;
              let dim: number | string = "?";
              for (const dd of fields(d.bytes!)) {
                if (dd.number === 1) dim = Number(dd.varint);
                else if (dd.number === 2) dim = text(dd.bytes);
              }
              value.shape.push(dim);
            }
          }
        }
      }
    }
  }
  return value;
}

interface Field {
  number: number;
  varint?: bigint;
  bytes?: Uint8Array;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function text(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) throw new RangeError("expected a length-delimited field");
  return decoder.decode(bytes);
}

/** Iterates the fields of one protobuf message; throws RangeError on malformed input. */
function* fields(bytes: Uint8Array): Generator<Field> {
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) throw new RangeError("truncated varint");
      const b = bytes[at++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new RangeError("varint too long");
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const number = key >>> 3;
    const wire = key & 7;
    if (number === 0) throw new RangeError("field number 0");
    if (wire === 0) yield { number, varint: varint() };
    else if (wire === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) throw new RangeError("length past end");
      yield { number, bytes: bytes.subarray(at, at + length) };
      at += length;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new RangeError(`unsupported wire type ${wire}`);
    if (at > bytes.length) throw new RangeError("fixed field past end");
  }
}
