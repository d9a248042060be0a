/**
 * The on-disk queue behind store-and-forward (`--buffer-dir`): numbered segment files of
 * records, and a cursor file saying where forwarding has got to.
 *
 * Record: `u32 length | u32 crc32c(body) | f64 appended-at (epoch ms) | body` (little endian;
 * the body is the event's JSON). Appends are group-committed: the records of one turn are written
 * together and the segment is `fdatasync`ed once before any of their appends resolves, so an
 * append that resolved survives kill -9 and power loss (as far as the disk honours fsync). The
 * cursor (`cursor.json`: segment and offset of the first record not yet forwarded) is replaced
 * atomically (temporary file, fsync, rename, directory fsync) after each forwarded batch;
 * segments wholly behind it are deleted. After a crash forwarding resumes at the cursor, so
 * records forwarded after its last save are forwarded again (at least once, never lost).
 *
 * Damage found when the queue is opened: a partial record at the very end of the newest segment
 * is a write that never completed (its append never resolved, so nobody was told it was stored):
 * it is cut off, said once. A record whose checksum or length is wrong anywhere else is real loss
 * of stored data: the rest of that segment is skipped, and a warning names the segment, the
 * offset and the bytes skipped. The queue never refuses to start over damage.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileDurably } from "../durable_file.ts";
import { crc32c } from "../pulsar/wire/crc32c.ts";

const HEADER = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One stored record. */
export interface StoredRecord {
  /** Where the record starts. */
  segment: number;
  offset: number;
  /** Where the next record starts (the cursor after this one). */
  next: { segment: number; offset: number };
  appendedAt: number;
  body: string;
}

/** Options of {@linkcode SegmentQueue.open}. */
export interface SegmentQueueOptions {
  /** Most bytes on disk (default 2 GiB); appends wait for room beyond it. */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size (default 64 MiB, ≤ maxBytes/4). */
  segmentBytes?: number;
  /** Warnings (damage found, records skipped). */
  log: (message: string) => void;
}

const name = (segment: number) => `${String(segment).padStart(20, "0")}.seg`;

/** Encodes one record. */
export function encodeRecord(body: string, appendedAt: number): Uint8Array {
  const bytes = encoder.encode(body);
  const out = new Uint8Array(HEADER + bytes.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, bytes.length, true);
  view.setUint32(4, crc32c(bytes), true);
  view.setFloat64(8, appendedAt, true);
  out.set(bytes, HEADER);
  return out;
}

/** The durable queue; one process at a time per directory. */
export class SegmentQueue {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #segmentBytes: number;
  readonly #log: (message: string) => void;
  /** Segment number → bytes of valid records in it. */
  readonly #ends = new Map<number, number>();
  #cursor = { segment: 0, offset: 0 };
  #writing = 0;
  #file: Deno.FsFile | undefined;
  #pending: { bytes: Uint8Array; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;
  #records = 0;
  #bytes = 0;
  #oldest: number | undefined;
  #roomWaiters: (() => void)[] = [];
  #dataWaiters: (() => void)[] = [];

  private constructor(dir: string, options: SegmentQueueOptions) {
    this.dir = dir;
    this.maxBytes = options.maxBytes ?? 2 * 1024 ** 3;
    this.#segmentBytes = Math.max(
      4096,
      Math.min(options.segmentBytes ?? 64 * 1024 ** 2, Math.floor(this.maxBytes / 4)),
    );
    this.#log = options.log;
  }

  /** Opens (or creates) the queue in `dir`, checking every stored record. */
  static async open(dir: string, options: SegmentQueueOptions): Promise<SegmentQueue> {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const queue = new SegmentQueue(dir, options);
    await queue.#recover();
    return queue;
  }

  /** Records stored and not yet forwarded. */
  get records(): number {
    return this.#records;
  }

  /** Their bytes on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** When the oldest of them was stored (epoch ms), or undefined when empty. */
  get oldestAppendedAt(): number | undefined {
    return this.#records === 0 ? undefined : this.#oldest;
  }

  async #recover(): Promise<void> {
    try {
      this.#cursor = JSON.parse(await Deno.readTextFile(join(this.dir, "cursor.json")));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        this.#log(`buffer: cursor.json unreadable (${err}); replaying every segment`);
      }
    }
    const segments = [];
    for await (const entry of Deno.readDir(this.dir)) {
      const match = /^(\d{20})\.seg$/.exec(entry.name);
      if (match) segments.push(Number(match[1]));
    }
    segments.sort((a, b) => a - b);
    for (const [i, segment] of segments.entries()) {
      if (segment < this.#cursor.segment) {
        await Deno.remove(join(this.dir, name(segment))).catch(() => {});
        continue;
      }
      await this.#scan(segment, i === segments.length - 1);
    }
    this.#writing = segments.length > 0 ? segments[segments.length - 1] + 1 : this.#cursor.segment;
    if (this.#cursor.segment > this.#writing) this.#writing = this.#cursor.segment;
  }

  /** Counts a segment's valid records from the cursor on; cuts a torn tail, skips damage. */
  async #scan(segment: number, newest: boolean): Promise<void> {
    const path = join(this.dir, name(segment));
    const bytes = await Deno.readFile(path);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = segment === this.#cursor.segment ? this.#cursor.offset : 0;
    while (offset < bytes.length) {
      const complete = offset + HEADER <= bytes.length &&
        offset + HEADER + view.getUint32(offset, true) <= bytes.length;
      if (complete) {
        const length = view.getUint32(offset, true);
        const body = bytes.subarray(offset + HEADER, offset + HEADER + length);
        if (crc32c(body) === view.getUint32(offset + 4, true)) {
          this.#count(view.getFloat64(offset + 8, true), HEADER + length);
          offset += HEADER + length;
          continue;
        }
      }
      if (!complete && newest) {
        this.#log(
          `buffer: ${name(segment)} ends in a partial record (${bytes.length - offset} bytes, ` +
            `a write cut short before it was confirmed): removed`,
        );
        const file = await Deno.open(path, { write: true });
        await file.truncate(offset);
        await file.syncData();
        file.close();
      } else {
        this.#log(
          `buffer: WARNING ${name(segment)} is damaged at offset ${offset}: skipping its last ` +
            `${bytes.length - offset} bytes; the events stored there are lost`,
        );
      }
      break;
    }
    this.#ends.set(segment, offset);
  }

  #count(appendedAt: number, size: number): void {
    if (this.#records === 0) this.#oldest = appendedAt;
    this.#records++;
    this.#bytes += size;
  }

  /** Stores `body`; resolves once it is on disk (fsynced). Waits while the queue is full. */
  async append(body: string): Promise<void> {
    const bytes = encodeRecord(body, Date.now());
    while (this.#bytes > 0 && this.#bytes + bytes.length > this.maxBytes) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    this.#count(Date.now(), bytes.length);
    await new Promise<void>((resolve, reject) => {
      this.#pending.push({ bytes, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#flush();
    });
  }

  /** Writes what is pending, one write and one fdatasync per group. */
  async #flush(): Promise<void> {
    await Promise.resolve(); // let the rest of this turn's appends join the group
    while (this.#pending.length > 0) {
      const group = this.#pending;
      this.#pending = [];
      try {
        let end = this.#ends.get(this.#writing) ?? 0;
        if (this.#file && end >= this.#segmentBytes) {
          this.#file.close();
          this.#file = undefined;
          this.#writing++;
          end = 0;
        }
        this.#file ??= await Deno.open(join(this.dir, name(this.#writing)), {
          create: true,
          append: true,
          mode: 0o600,
        });
        const size = group.reduce((n, p) => n + p.bytes.length, 0);
        const all = new Uint8Array(size);
        let at = 0;
        for (const p of group) {
          all.set(p.bytes, at);
          at += p.bytes.length;
        }
        for (let written = 0; written < size;) {
          written += await this.#file.write(all.subarray(written));
        }
        await this.#file.syncData();
        this.#ends.set(this.#writing, end + size);
        for (const p of group) p.resolve();
        for (const wake of this.#dataWaiters.splice(0)) wake();
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
    this.#flushing = undefined;
  }

  /**
   * Up to `max` records from `from` (default: the cursor), waiting until there is one; resolves
   * empty when `signal` aborts.
   */
  async read(
    from: { segment: number; offset: number } = this.#cursor,
    max = 500,
    signal?: AbortSignal,
  ): Promise<StoredRecord[]> {
    let { segment, offset } = from;
    while (true) {
      if (signal?.aborted) return [];
      const end = this.#ends.get(segment);
      if (end !== undefined && offset < end) break;
      if (end !== undefined && segment < this.#writing) {
        segment++;
        offset = 0;
        continue;
      }
      if (end === undefined && segment < this.#writing) {
        segment++;
        offset = 0;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#dataWaiters.push(resolve);
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    const end = this.#ends.get(segment)!;
    const file = await Deno.open(join(this.dir, name(segment)), { read: true });
    try {
      const records: StoredRecord[] = [];
      await file.seek(offset, Deno.SeekMode.Start);
      const chunk = new Uint8Array(Math.min(end - offset, 1024 * 1024));
      let filled = 0;
      while (filled < chunk.length) {
        const n = await file.read(chunk.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      const view = new DataView(chunk.buffer, 0, filled);
      let at = 0;
      while (records.length < max && at + HEADER <= filled) {
        const length = view.getUint32(at, true);
        if (at + HEADER + length > filled) {
          if (at === 0) throw new Error(`a record larger than 1 MiB in ${name(segment)}`);
          break;
        }
        const start = offset + at;
        at += HEADER + length;
        records.push({
          segment,
          offset: start,
          next: { segment, offset: offset + at },
          appendedAt: view.getFloat64(start - offset + 8, true),
          body: decoder.decode(chunk.subarray(start - offset + HEADER, offset + at - offset)),
        });
      }
      return records;
    } finally {
      file.close();
    }
  }

  /** Forwarding got to `cursor` (past `records`): saves it and deletes segments behind it. */
  async commit(
    cursor: { segment: number; offset: number },
    records: StoredRecord[],
  ): Promise<void> {
    await writeFileDurably(join(this.dir, "cursor.json"), encoder.encode(JSON.stringify(cursor)));
    for (let s = this.#cursor.segment; s < cursor.segment; s++) {
      if (s === this.#writing) break;
      await Deno.remove(join(this.dir, name(s))).catch(() => {});
      this.#ends.delete(s);
    }
    this.#cursor = cursor;
    for (const r of records) {
      this.#records--;
      this.#bytes -= r.next.offset - r.offset;
    }
    this.#oldest = records.length > 0 ? records[records.length - 1].appendedAt : this.#oldest;
    for (const wake of this.#roomWaiters.splice(0)) wake();
  }

  /** The cursor: the first record not yet forwarded. */
  get cursor(): { segment: number; offset: number } {
    return { ...this.#cursor };
  }

  /** Writes what is pending and closes the open segment. */
  async close(): Promise<void> {
    await this.#flushing;
    this.#file?.close();
    this.#file = undefined;
    for (const wake of this.#dataWaiters.splice(0)) wake();
  }
}
