/**
 * Builds the Kafka records of one queued tick: one `KlineBatch` per symbol
 * holding that symbol's live entries in entry order. The entries are grouped
 * with per-symbol linked lists (no Map or array per symbol) and all of the
 * tick's record values are written into one buffer, each record a view of it:
 * a tick of ~7,700 klines over ~3,600 symbols used to allocate one value
 * buffer, one list and several objects per symbol.
 */
import { ByteWriter } from "./byte-writer.js";
import { writeBatchHeader } from "./kline-codec.js";
import type { KafkaRecord } from "./ports.js";
import type { TickEntries } from "./tick-update.js";

/** Reused grouping scratch for one layout. */
export class KafkaRecordBuilder {
  /** Per symbol: first and last entry of the tick being grouped (-1: none yet). */
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  /** The symbols of the tick, in order of their first entry. */
  private readonly order: Int32Array;
  /** Per entry: the next entry of its symbol (-1: last). */
  private next = new Int32Array(1024);
  private readonly header = new ByteWriter(256);

  constructor(
    private readonly symbols: readonly string[],
    private readonly nIntervals: number,
    private readonly aggregator: string,
  ) {
    this.head = new Int32Array(symbols.length).fill(-1);
    this.tail = new Int32Array(symbols.length);
    this.order = new Int32Array(symbols.length);
  }

  /**
   * Appends to `records` one record per symbol of the entries `live` accepts; returns the number of
   * klines they carry. `headers` is shared by the tick's records.
   */
  add(
    records: KafkaRecord[],
    e: TickEntries,
    live: (i: number) => boolean,
    seq: number,
    producedAt: number,
    headers: Readonly<Record<string, string>>,
  ): number {
    if (this.next.length < e.count) this.next = new Int32Array(e.count * 2);
    const { head, tail, next, order } = this;
    let syms = 0;
    let klines = 0;
    let bytes = 0;
    for (let i = 0; i < e.count; i++) {
      if (!live(i)) continue;
      const sym = (e.slot[i]! / this.nIntervals) | 0;
      next[i] = -1;
      if (head[sym] === -1) {
        head[sym] = i;
        order[syms++] = sym;
      } else next[tail[sym]!] = i;
      tail[sym] = i;
      klines++;
      bytes += e.len[i]!;
    }
    if (syms === 0) return 0;
    const h = this.header;
    h.reset();
    writeBatchHeader(h, this.aggregator, seq, producedAt);
    const out = Buffer.allocUnsafe(bytes + syms * h.pos);
    const src = Buffer.isBuffer(e.bytes)
      ? e.bytes
      : Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
    let p = 0;
    for (let k = 0; k < syms; k++) {
      const sym = order[k]!;
      const start = p;
      h.buf.copy(out, p, 0, h.pos);
      p += h.pos;
      // Entries of a symbol usually lie back to back in the update: copied in runs.
      let from = -1;
      let to = -1;
      for (let i = head[sym]!; i !== -1; i = next[i]!) {
        const off = e.off[i]!;
        if (off !== to) {
          if (to > from) p += src.copy(out, p, from, to);
          from = off;
        }
        to = off + e.len[i]!;
      }
      if (to > from) p += src.copy(out, p, from, to);
      head[sym] = -1;
      records.push({ key: this.symbols[sym]!, value: out.subarray(start, p), headers });
    }
    return klines;
  }
}
