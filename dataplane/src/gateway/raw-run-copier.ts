/**
 * Copies raw klines into the snapshot builder's scratch in runs: klines that
 * sit back to back in a worker's chunk (the usual case: a symbol's intervals
 * change together and arrive in order) go in one memcpy instead of one call
 * each. In a PullChunk a kline is `klines = 7` (tag 0x3a) + length + body, in
 * a Snapshot `klines = 4` (tag 0x22) + the same length + body, so a run is
 * copied as is and each kline's tag byte is patched afterwards.
 */
import type { ByteWriter } from "./byte-writer.js";
import { KLINES_TAG } from "./kline-codec.js";
import type { RawKlines } from "./ports.js";

/** Tag of `repeated Kline klines = 7` in a PullChunk. */
const CHUNK_KLINES_TAG = 0x3a;

/** Pending run of raw klines not yet written to the scratch writer. */
export class RawRunCopier {
  private src: Buffer | undefined;
  private from = 0;
  private to = 0;
  private tags = new Int32Array(1024);
  private nTags = 0;

  /** Where the next kline lands in the writer once the pending run is flushed. */
  pos(w: ByteWriter): number {
    return w.pos + (this.to - this.from);
  }

  /**
   * Appends raw kline `i` as a tagged kline. Returns its tagged length, or -1 when its
   * bytes cannot be copied from the chunk with their prefix (not a Buffer, or a
   * non-minimal length prefix): the caller then writes it another way, after `flush`.
   */
  add(w: ByteWriter, raw: RawKlines, i: number): number {
    const chunk = raw.chunks[raw.chunk[i]!]!;
    const off = raw.off[i]!;
    const len = raw.len[i]!;
    // The prefix must be the tag plus the minimal length varint the envelope would carry.
    let start: number;
    if (len < 0x80 && chunk[off - 1] === len) start = off - 2;
    else if (
      len >= 0x80 &&
      len < 0x4000 &&
      chunk[off - 1] === len >> 7 &&
      chunk[off - 2] === ((len & 0x7f) | 0x80)
    ) {
      start = off - 3;
    } else return -1;
    if (start < 0 || chunk[start] !== CHUNK_KLINES_TAG) return -1;
    const end = off + len;
    if (this.src !== chunk || this.to !== start) {
      if (!Buffer.isBuffer(chunk)) return -1;
      this.flush(w);
      this.src = chunk;
      this.from = start;
      this.to = start;
    }
    if (this.nTags === this.tags.length) {
      const t = new Int32Array(this.tags.length * 2);
      t.set(this.tags);
      this.tags = t;
    }
    this.tags[this.nTags++] = this.to - this.from;
    this.to = end;
    return end - start;
  }

  /** Writes the pending run to `w` and patches its tags; call before any other write to `w`. */
  flush(w: ByteWriter): void {
    const src = this.src;
    if (src === undefined) return;
    const n = this.to - this.from;
    w.ensure(n);
    src.copy(w.buf, w.pos, this.from, this.to);
    const b = w.buf;
    for (let k = 0; k < this.nTags; k++) b[w.pos + this.tags[k]!] = KLINES_TAG;
    w.pos += n;
    this.nTags = 0;
    this.src = undefined;
    this.from = this.to = 0;
  }
}
