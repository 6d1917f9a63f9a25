/**
 * The writer's hot path: a `klagg.v1.KlineBatch` decoder that walks the
 * protobuf wire bytes and writes each kline's TSV line directly, with the same
 * validation as `toRow` (row.ts), which stays the readable reference and is
 * checked against this one in kline-wire.test.ts. Pure.
 *
 * Why by hand: protobuf-es builds a message object per kline, a string per
 * field and a bigint per 64-bit field, and `toRow` then runs eight regexes and
 * concatenates a rope string per row; that garbage made decoding the writer's
 * bottleneck. Here a kline costs two flat strings (its TSV line and its key)
 * and one small row object. Decimal fields are validated byte by byte and
 * copied as they are, so nothing is ever parsed as a float.
 */
import { INTERVALS, type Interval } from "../core/types.js";
import { DECIMAL_INT_DIGITS, DECIMAL_SCALE, formatDateTime, intervalId, type KlineRow } from "./row.js";
import type { RowRejection } from "./row.js";
import { Reader, WireRejection } from "./wire-reader.js";

export { WireRejection } from "./wire-reader.js";

/** A decoded batch: its rows in message order, its sequence number and its aggregator. */
export interface WireBatch {
  readonly rows: KlineRow[];
  readonly seq: number;
  readonly aggregator: string;
}

const MAX_DATETIME_MS = 4_294_967_295_000;
/** Upper bound of one TSV line: 64 (symbol) + 3 + 19 + 8 * 39 (decimals) + 6 * 21 (integers) + tabs. */
const SCRATCH = Buffer.allocUnsafe(1024);
const INTERVAL_BY_NAME: ReadonlyMap<string, Interval> = new Map(INTERVALS.map((i) => [i, i]));
const DATETIME_BYTES = new Map<number, Buffer>();

/** Decodes a whole message or throws a {@link WireRejection}. */
export function decodeKlineBatch(buf: Uint8Array): WireBatch {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const r = new Reader(b, 0, b.length);
  const rows: KlineRow[] = [];
  let seq = 0;
  let aggregator = "";
  while (r.pos < r.end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 4 && wt === 2) {
      const len = r.varint32();
      const start = r.pos;
      rows.push(validatedRow(b, start, r.skipBytes(len)));
    } else if (field === 1 && wt === 2) {
      const len = r.varint32();
      const start = r.pos;
      aggregator = b.toString("utf8", start, r.skipBytes(len));
    } else if (field === 2 && wt === 0) {
      seq = r.uint64();
    } else r.skip(wt);
  }
  return { rows, seq, aggregator };
}

/** The fields of one kline: strings as [start, end) byte ranges, integers as numbers (NaN when unsafe). */
class KlineFields {
  sym0 = 0;
  sym1 = 0;
  iv0 = 0;
  iv1 = 0;
  openTime = 0;
  closeTime = 0;
  /** open, high, low, close, volume, quote_volume, taker_buy_volume, taker_buy_quote_volume (fields 5-10, 12, 13). */
  readonly dec = new Int32Array(16);
  trades = 0;
  firstTradeId = 0;
  lastTradeId = 0;
  closed = false;
  version = 0;

  reset(): void {
    this.sym0 = this.sym1 = this.iv0 = this.iv1 = 0;
    this.openTime = this.closeTime = this.trades = this.firstTradeId = this.lastTradeId = this.version = 0;
    this.closed = false;
    this.dec.fill(0);
  }
}

const F = new KlineFields();
/** Wire field number -> slot in KlineFields.dec (-1: not a decimal). */
const DEC_SLOT = [-1, -1, -1, -1, -1, 0, 1, 2, 3, 4, 5, -1, 6, 7];

/** Reads one kline's fields into F. */
function readKline(b: Buffer, start: number, end: number): KlineFields {
  const f = F;
  f.reset();
  const r = new Reader(b, start, end);
  while (r.pos < r.end) {
    const tag = r.varint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (wt === 2 && field <= 13 && field !== 3 && field !== 4 && field !== 11) {
      const len = r.varint32();
      const s = r.pos;
      const e = r.skipBytes(len);
      if (field === 1) [f.sym0, f.sym1] = [s, e];
      else if (field === 2) [f.iv0, f.iv1] = [s, e];
      else {
        const slot = DEC_SLOT[field] ?? -1;
        f.dec[slot * 2] = s;
        f.dec[slot * 2 + 1] = e;
      }
    } else if (wt === 0 && field >= 3 && field <= 17) {
      if (field === 17) f.version = r.uint64();
      else if (field === 16) f.closed = r.uint64() !== 0;
      else if (field === 3) f.openTime = r.int64();
      else if (field === 4) f.closeTime = r.int64();
      else if (field === 11) f.trades = r.int64();
      else if (field === 14) f.firstTradeId = r.int64();
      else if (field === 15) f.lastTradeId = r.int64();
      else r.skip(wt);
    } else r.skip(wt);
  }
  return f;
}

/**
 * A validated kline whose TSV line is written only when asked for: most rows are superseded by a newer version
 * before the flush, so only the survivors pay for their line. It keeps the message bytes (a slice of kafkajs'
 * fetch response) until the flush, so the memory held is at most what was fetched during one batch age.
 */
class WireRow implements KlineRow {
  constructor(
    private readonly b: Buffer,
    private readonly start: number,
    private readonly end: number,
    readonly key: string,
    readonly version: number,
    readonly closedAt: number | undefined,
  ) {}

  get tsv(): string {
    return writeTsv(this.b, readKline(this.b, this.start, this.end));
  }
}

function validatedRow(b: Buffer, start: number, end: number): KlineRow {
  const f = readKline(b, start, end);
  if (!isSymbol(b, f.sym0, f.sym1)) reject("bad_symbol", `symbol ${JSON.stringify(text(b, f.sym0, f.sym1))}`);
  const ivText = text(b, f.iv0, f.iv1);
  const interval = INTERVAL_BY_NAME.get(ivText);
  if (interval === undefined) reject("bad_interval", `interval ${JSON.stringify(ivText)}`);
  const { openTime, closeTime } = f;
  if (!isUint(openTime) || openTime % 1000 !== 0 || openTime > MAX_DATETIME_MS) {
    reject("bad_open_time", `open_time ${openTime}`);
  }
  if (!isUint(closeTime) || closeTime <= openTime) reject("bad_close_time", `close_time ${closeTime}`);
  for (let i = 0; i < 16; i += 2) {
    const s = f.dec[i] ?? 0;
    const e = f.dec[i + 1] ?? 0;
    if (!isDecimal(b, s, e)) reject("bad_decimal", `decimal ${JSON.stringify(text(b, s, e))}`);
  }
  if (!isUint(f.trades)) reject("bad_integer", `trades ${f.trades}`);
  if (!Number.isSafeInteger(f.firstTradeId) || f.firstTradeId < -1) {
    reject("bad_integer", `first_trade_id ${f.firstTradeId}`);
  }
  if (!Number.isSafeInteger(f.lastTradeId) || f.lastTradeId < -1) {
    reject("bad_integer", `last_trade_id ${f.lastTradeId}`);
  }
  if (!isUint(f.version)) reject("bad_version", `version ${f.version}`);
  const o = SCRATCH;
  let p = copy(b, f.sym0, f.sym1, o, 0);
  o[p++] = 9;
  p = copy(b, f.iv0, f.iv1, o, p);
  o[p++] = 9;
  p += dateTimeBytes(openTime).copy(o, p);
  const key = o.toString("latin1", 0, p);
  return new WireRow(b, start, end, key, f.version, f.closed ? closeTime : undefined);
}

/** The TSV line of a kline already validated by {@link validatedRow}. */
function writeTsv(b: Buffer, f: KlineFields): string {
  const interval = text(b, f.iv0, f.iv1) as Interval;
  // Same bytes as toRow's template: symbol, interval, open_time, close_time, 6 decimals, trades, 2 decimals,
  // first/last trade id, closed, version, interval_id.
  const o = SCRATCH;
  let p = copy(b, f.sym0, f.sym1, o, 0);
  o[p++] = 9;
  p = copy(b, f.iv0, f.iv1, o, p);
  o[p++] = 9;
  p += dateTimeBytes(f.openTime).copy(o, p);
  o[p++] = 9;
  p = writeInt(o, p, f.closeTime);
  for (let i = 0; i < 12; i += 2) {
    o[p++] = 9;
    p = copy(b, f.dec[i] ?? 0, f.dec[i + 1] ?? 0, o, p);
  }
  o[p++] = 9;
  p = writeInt(o, p, f.trades);
  for (let i = 12; i < 16; i += 2) {
    o[p++] = 9;
    p = copy(b, f.dec[i] ?? 0, f.dec[i + 1] ?? 0, o, p);
  }
  o[p++] = 9;
  p = writeInt(o, p, f.firstTradeId);
  o[p++] = 9;
  p = writeInt(o, p, f.lastTradeId);
  o[p++] = 9;
  o[p++] = f.closed ? 49 : 48;
  o[p++] = 9;
  p = writeInt(o, p, f.version);
  o[p++] = 9;
  p = writeInt(o, p, intervalId(interval));
  return o.toString("latin1", 0, p);
}

function reject(reason: RowRejection, detail: string): never {
  throw new WireRejection(reason, detail);
}

function text(b: Buffer, s: number, e: number): string {
  return b.toString("utf8", s, e);
}

function isUint(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** ^[A-Z0-9][A-Z0-9._-]{0,63}$ on bytes. */
function isSymbol(b: Buffer, s: number, e: number): boolean {
  if (e <= s || e - s > 64) return false;
  for (let i = s; i < e; i++) {
    const c = b[i] ?? 0;
    const alnum = (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
    if (!alnum && (i === s || (c !== 46 && c !== 95 && c !== 45))) return false;
  }
  return true;
}

/** ^\d{1,22}(\.\d{1,16})?$ on bytes (the DECIMAL_RE of row.ts). */
function isDecimal(b: Buffer, s: number, e: number): boolean {
  let i = s;
  while (i < e && isDigit(b[i])) i++;
  const intDigits = i - s;
  if (intDigits < 1 || intDigits > DECIMAL_INT_DIGITS) return false;
  if (i === e) return true;
  if (b[i] !== 46) return false;
  const f0 = ++i;
  while (i < e && isDigit(b[i])) i++;
  return i === e && i - f0 >= 1 && i - f0 <= DECIMAL_SCALE;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

function copy(src: Buffer, s: number, e: number, dst: Buffer, p: number): number {
  // Fields are short: a loop beats Buffer#copy's call overhead.
  for (let i = s; i < e; i++) dst[p++] = src[i] ?? 0;
  return p;
}

/** Writes a safe integer >= -1 (validated by the caller) in decimal ASCII. */
function writeInt(o: Buffer, p: number, n: number): number {
  if (n < 0) {
    o[p++] = 45;
    n = -n;
  }
  if (n < 10) {
    o[p++] = 48 + n;
    return p;
  }
  let digits = 0;
  for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
  for (let i = p + digits - 1; i >= p; i--) {
    o[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return p + digits;
}

function dateTimeBytes(ms: number): Buffer {
  let bytes = DATETIME_BYTES.get(ms);
  if (bytes === undefined) {
    if (DATETIME_BYTES.size >= 4096) DATETIME_BYTES.clear();
    bytes = Buffer.from(formatDateTime(ms), "latin1");
    DATETIME_BYTES.set(ms, bytes);
  }
  return bytes;
}
