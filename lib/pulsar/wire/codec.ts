/**
 * A small table-driven codec: each Pulsar message is described once as a list of fields
 * (number, camelCase name, kind) and encoded to / decoded from plain objects with it.
 *
 * Wire grammar: see `protobuf.ts`. Fields are written in the order they are declared (the
 * declarations follow field-number order, as the Java client writes them); optional fields that
 * are `undefined` are left out. Decoding skips unknown fields and values of an unexpected wire
 * type, fills declared defaults, and rejects messages that lack a required field.
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";
import { type Long, type ProtoReader, type ProtoWriter, WIRE } from "./protobuf.ts";

/** A protobuf enum, carried in objects by its name. */
export interface EnumSpec<Name extends string = string> {
  readonly names: Readonly<Record<number, Name>>;
  readonly values: Readonly<Record<Name, number>>;
}

/**
 * Declares an enum from its name → number table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineEnum } from "./codec.ts";
 * const ackType = defineEnum({ Individual: 0, Cumulative: 1 });
 * assert.equal(ackType.names[1], "Cumulative");
 * ```
 */
export function defineEnum<Name extends string>(values: Record<Name, number>): EnumSpec<Name> {
  const names: Record<number, Name> = {};
  for (const [name, value] of Object.entries(values) as [Name, number][]) names[value] = name;
  return { names, values };
}

/** How a field's value is written. */
export type FieldKind =
  | "uint64" // JS number; negative values as 64-bit two's complement
  | "uint32"
  | "int32"
  | "long" // Long: number | bigint, exact over 64 bits
  | "bool"
  | "double"
  | "string"
  | "bytes"
  | "keyValues" // repeated KeyValue {1: key, 2: value} ↔ Record<string, string>
  | "keyLongValues" // repeated KeyLongValue {1: key, 2: uint64} ↔ Record<string, number>
  | EnumSpec
  | MessageSpec;

/** One field of a message. */
export interface FieldSpec {
  no: number;
  name: string;
  kind: FieldKind;
  repeated?: boolean;
  required?: boolean;
  /** Filled in on decode when the field is absent. */
  default?: unknown;
}

/** A message: its name (for error messages) and its fields. */
export interface MessageSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
  /** Fields indexed by number, built by {@linkcode defineMessage}. */
  readonly byNumber: readonly (FieldSpec | undefined)[];
  readonly required: readonly string[];
  readonly defaults: readonly FieldSpec[];
  /** Decode table indexed by the full tag (`no << 3 | wireType`), built by `defineMessage`. */
  readonly byTag: readonly (DecodeField | undefined)[];
}

/** A field prepared for decoding: its kind as a small integer, for a fast switch. */
export interface DecodeField {
  readonly name: string;
  readonly code: number;
  readonly repeated: boolean;
  readonly field: FieldSpec;
}

const CODE = {
  uint64: 0,
  uint32: 1,
  int32: 2,
  long: 3,
  bool: 4,
  double: 5,
  string: 6,
  bytes: 7,
  keyValues: 8,
  keyLongValues: 9,
  enum: 10,
  message: 11,
} as const;

function codeOf(kind: FieldKind): number {
  if (typeof kind === "string") return CODE[kind];
  return "values" in kind ? CODE.enum : CODE.message;
}

function wireTypeOf(code: number): number {
  if (code === CODE.double) return WIRE.fixed64;
  return code >= CODE.string && code !== CODE.enum ? WIRE.bytes : WIRE.varint;
}

/**
 * Declares a message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineMessage, encodeMessage, decodeMessage } from "./codec.ts";
 * import { ProtoReader, ProtoWriter } from "./protobuf.ts";
 * const flow = defineMessage("CommandFlow", [
 *   { no: 1, name: "consumerId", kind: "uint64", required: true },
 *   { no: 2, name: "messagePermits", kind: "uint32", required: true },
 * ]);
 * const w = new ProtoWriter();
 * encodeMessage(w, flow, { consumerId: 1, messagePermits: 1000 });
 * const back = decodeMessage(new ProtoReader(w.finish()), flow);
 * assert.equal(back.messagePermits, 1000);
 * ```
 */
export function defineMessage(
  name: string,
  fields: FieldSpec[] | ((self: MessageSpec) => FieldSpec[]),
): MessageSpec {
  // A thunk lets a message refer to itself (MessageIdData.first_chunk_message_id).
  const spec = { name } as { -readonly [K in keyof MessageSpec]: MessageSpec[K] };
  const list = typeof fields === "function" ? fields(spec) : fields;
  const byNumber: (FieldSpec | undefined)[] = [];
  for (const field of list) byNumber[field.no] = field;
  spec.fields = list;
  spec.byNumber = byNumber;
  spec.required = list.filter((f) => f.required).map((f) => f.name);
  spec.defaults = list.filter((f) => f.default !== undefined);
  const byTag: (DecodeField | undefined)[] = [];
  for (const field of list) {
    const code = codeOf(field.kind);
    byTag[(field.no << 3) | wireTypeOf(code)] = {
      name: field.name,
      code,
      repeated: field.repeated === true,
      field,
    };
  }
  spec.byTag = byTag;
  return spec;
}

type Obj = Record<string, unknown>;

/** Appends the fields of `value` (no length prefix) to `w`. */
export function encodeMessage(w: ProtoWriter, spec: MessageSpec, value: object): void {
  const obj = value as Obj;
  const fields = spec.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    const v = obj[field.name];
    if (v === undefined) {
      if (field.required) {
        throw new ProtocolError(`cannot encode ${spec.name}: ${field.name} is required`);
      }
      continue;
    }
    if (field.repeated) {
      if (!Array.isArray(v)) {
        throw new ProtocolError(`cannot encode ${spec.name}: ${field.name} must be an array`);
      }
      for (const item of v) encodeField(w, spec, field, item);
    } else {
      encodeField(w, spec, field, v);
    }
  }
}

function encodeField(w: ProtoWriter, spec: MessageSpec, field: FieldSpec, v: unknown): void {
  const no = field.no;
  switch (field.kind) {
    case "uint64":
    case "uint32":
      return w.uint64Field(no, expectNumber(spec, field, v));
    case "int32":
      return w.int32Field(no, expectNumber(spec, field, v));
    case "long":
      if (typeof v !== "bigint") expectNumber(spec, field, v);
      w.tag(no, WIRE.varint);
      return w.long(v as Long);
    case "bool":
      return w.boolField(no, v === true);
    case "double":
      return w.doubleField(no, expectNumber(spec, field, v, false));
    case "string":
      if (typeof v !== "string") throw badValue(spec, field, v);
      return w.stringField(no, v);
    case "bytes":
      if (!(v instanceof Uint8Array)) throw badValue(spec, field, v);
      return w.bytesField(no, v);
    case "keyValues":
    case "keyLongValues": {
      if (v === null || typeof v !== "object") throw badValue(spec, field, v);
      const long = field.kind === "keyLongValues";
      for (const [key, value] of Object.entries(v)) {
        const start = w.beginLength(no);
        w.stringField(1, key);
        if (long) w.uint64Field(2, expectNumber(spec, field, value));
        else if (typeof value === "string") w.stringField(2, value);
        else throw badValue(spec, field, value);
        w.endLength(start);
      }
      return;
    }
    default: {
      const kind = field.kind;
      if ("values" in kind) {
        const n = kind.values[v as string];
        if (n === undefined) throw badValue(spec, field, v);
        return w.uint64Field(no, n);
      }
      if (v === null || typeof v !== "object") throw badValue(spec, field, v);
      const start = w.beginLength(no);
      encodeMessage(w, kind, v);
      w.endLength(start);
    }
  }
}

function expectNumber(spec: MessageSpec, field: FieldSpec, v: unknown, integer = true): number {
  if (typeof v !== "number" || (integer && !Number.isSafeInteger(v))) {
    throw badValue(spec, field, v);
  }
  return v;
}

function badValue(spec: MessageSpec, field: FieldSpec, v: unknown): ProtocolError {
  const shown = typeof v === "bigint" ? `${v}n` : JSON.stringify(v) ?? String(v);
  return new ProtocolError(`cannot encode ${spec.name}.${field.name}: invalid value ${shown}`);
}

/** Reads a message from `r.pos` to `end` into `obj` (a fresh object by default). */
export function decodeMessage(
  r: ProtoReader,
  spec: MessageSpec,
  end: number = r.end,
  obj: Obj = {},
): Obj {
  const outerEnd = r.end;
  r.end = end;
  const byTag = spec.byTag;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag < 8) throw new ProtocolError(`${spec.name}: invalid field number 0`);
    const f = tag < byTag.length ? byTag[tag] : undefined;
    if (f === undefined) {
      // Packed repeated varints (proto3 style) are accepted too; anything else is skipped.
      const wireType = tag & 7;
      const unpacked = wireType === WIRE.bytes ? byTag[tag - WIRE.bytes] : undefined;
      if (unpacked?.repeated) readPacked(r, unpacked, obj);
      else r.skip(wireType);
      continue;
    }
    let value: unknown;
    switch (f.code) {
      case CODE.uint64:
        value = r.varint();
        break;
      case CODE.uint32:
        value = r.uint32();
        break;
      case CODE.int32:
        value = r.int32();
        break;
      case CODE.long:
        value = r.long();
        break;
      case CODE.bool:
        value = r.bool();
        break;
      case CODE.double:
        value = r.double();
        break;
      case CODE.string:
        value = r.string();
        break;
      case CODE.bytes:
        value = r.bytesView().slice();
        break;
      case CODE.enum:
        // An enum value this version does not know is dropped, as proto2 does.
        value = (f.field.kind as EnumSpec).names[r.varint()];
        if (value === undefined) continue;
        break;
      case CODE.message: {
        const len = r.length();
        value = decodeMessage(r, f.field.kind as MessageSpec, r.pos + len);
        break;
      }
      default: {
        readEntry(r, f, obj);
        continue;
      }
    }
    if (f.repeated) ((obj[f.name] ??= []) as unknown[]).push(value);
    else obj[f.name] = value;
  }
  r.end = outerEnd;
  for (const field of spec.defaults) {
    if (obj[field.name] === undefined) obj[field.name] = field.default;
  }
  for (const name of spec.required) {
    if (obj[name] === undefined) throw new ProtocolError(`${spec.name}: missing required ${name}`);
  }
  return obj;
}

function readPacked(r: ProtoReader, f: DecodeField, obj: Obj): void {
  const len = r.length();
  const packedEnd = r.pos + len;
  const list = (obj[f.name] ??= []) as unknown[];
  const savedEnd = r.end;
  r.end = packedEnd;
  while (r.pos < packedEnd) {
    switch (f.code) {
      case CODE.uint64:
        list.push(r.varint());
        break;
      case CODE.uint32:
        list.push(r.uint32());
        break;
      case CODE.int32:
        list.push(r.int32());
        break;
      case CODE.long:
        list.push(r.long());
        break;
      case CODE.bool:
        list.push(r.bool());
        break;
      default: {
        const name = (f.field.kind as EnumSpec).names[r.varint()];
        if (name !== undefined) list.push(name);
      }
    }
  }
  r.end = savedEnd;
}

/** One KeyValue / KeyLongValue entry into the field's map. */
function readEntry(r: ProtoReader, f: DecodeField, obj: Obj): void {
  const len = r.length();
  const entry = decodeMessage(
    r,
    f.code === CODE.keyValues ? KEY_VALUE : KEY_LONG_VALUE,
    r.pos + len,
  );
  const map = (obj[f.name] ??= {}) as Obj;
  // A key named "__proto__" must stay a plain entry, never replace the prototype.
  Object.defineProperty(map, entry.key as string, {
    value: entry.value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** `KeyValue { required string key = 1; required string value = 2; }` */
export const KEY_VALUE: MessageSpec = defineMessage("KeyValue", [
  { no: 1, name: "key", kind: "string", required: true },
  { no: 2, name: "value", kind: "string", required: true },
]);

/** `KeyLongValue { required string key = 1; required uint64 value = 2; }` */
export const KEY_LONG_VALUE: MessageSpec = defineMessage("KeyLongValue", [
  { no: 1, name: "key", kind: "string", required: true },
  { no: 2, name: "value", kind: "uint64", required: true },
]);
