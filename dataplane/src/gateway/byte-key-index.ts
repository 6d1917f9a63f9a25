/**
 * Looks strings up by their UTF-8 bytes inside a buffer, without creating a
 * string: the gateway finds a raw kline's symbol and interval index straight
 * from the chunk bytes (a string per kline would be ~8,000 allocations a tick).
 *
 * Keys are read as 32-bit words through a `DataView` (one unaligned load per
 * 4 bytes, where a byte loop costs one load and one step per byte): a key of
 * n >= 4 bytes is its words at 0, 4, 8, ... plus, when n is not a multiple of 4,
 * the word ending at its last byte; a shorter key is one word packing its bytes
 * and its length. Open addressing over a hash of the words; a hit is confirmed
 * word by word, or, for a short key, against its packed word kept beside the
 * table entry. `isKeyIn` confirms a guessed index the same way, with no hashing
 * (the gateway's symbol refs).
 */
const encoder = new TextEncoder();

/** Fixed set of keys, each mapped to its position in the constructor's list. */
export class ByteKeyIndex {
  private readonly mask: number;
  /** Slot -> key index + 1 (0 = empty). */
  private readonly table: Int32Array;
  /** Words per key in `words` (enough for the longest key). */
  private readonly stride: number;
  private readonly words: Int32Array;
  private readonly keyLen: Int32Array;
  /** Per table slot, the packed word of the short key (under 4 bytes) it holds, else 0 (never a packed word). */
  private readonly short: Int32Array;

  constructor(keys: readonly string[]) {
    const encoded = keys.map((k) => encoder.encode(k));
    const longest = encoded.reduce((m, e) => Math.max(m, e.length), 0);
    this.stride = Math.max(1, Math.ceil(longest / 4));
    this.words = new Int32Array(this.stride * keys.length);
    this.keyLen = new Int32Array(keys.length);
    let size = 16;
    while (size < keys.length * 2) size *= 2;
    this.mask = size - 1;
    this.table = new Int32Array(size);
    this.short = new Int32Array(size);
    encoded.forEach((e, i) => {
      const view = viewOf(e);
      // A duplicate key keeps its first index, like a Map filled in order would not: callers pass unique keys.
      if (this.getIn(view, 0, e.length) >= 0) return;
      this.keyLen[i] = e.length;
      const n = wordCount(e.length);
      for (let j = 0; j < n; j++) this.words[this.stride * i + j] = word(view, 0, e.length, j);
      let h = hash(view, 0, e.length) & this.mask;
      while (this.table[h] !== 0) h = (h + 1) & this.mask;
      this.table[h] = i + 1;
      if (e.length < 4) this.short[h] = this.words[this.stride * i]!;
    });
  }

  /** Index of the key equal to `buf[off, off + len)`, or -1 (allocates a view: not for hot paths). */
  get(buf: Uint8Array, off: number, len: number): number {
    return this.getIn(viewOf(buf), off, len);
  }

  /** Index of the key equal to the `len` bytes at `off` of `view`, or -1. */
  getIn(view: DataView, off: number, len: number): number {
    const n = wordCount(len);
    if (n > this.stride) return -1;
    if (len < 4) return this.getShort(word(view, off, len, 0), len);
    let h = hash(view, off, len) & this.mask;
    for (;;) {
      const e = this.table[h]!;
      if (e === 0) return -1;
      if (this.isKeyIn(view, off, len, e - 1)) return e - 1;
      h = (h + 1) & this.mask;
    }
  }

  /** Whether key `k` (an index, < the number of keys) equals the `len` bytes at `off` of `view`. */
  isKeyIn(view: DataView, off: number, len: number, k: number): boolean {
    if (this.keyLen[k] !== len) return false;
    const ws = this.words;
    const base = this.stride * k;
    const n = wordCount(len);
    for (let j = 0; j < n; j++) if (ws[base + j] !== word(view, off, len, j)) return false;
    return true;
  }

  /** A key under 4 bytes (the intervals) by its packed word: compared in the table's own line, one load. */
  private getShort(key: number, len: number): number {
    let h = finish(mix(len, key)) & this.mask;
    for (;;) {
      const e = this.table[h]!;
      if (e === 0) return -1;
      if (this.short[h] === key) return e - 1;
      h = (h + 1) & this.mask;
    }
  }
}

/** A view over exactly `b`'s bytes. */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Words that make up a key of `len` bytes. */
function wordCount(len: number): number {
  return len < 4 ? 1 : (len + 3) >>> 2;
}

/**
 * Word `j` of the key of `len` bytes at `off`: little-endian 32-bit loads at 4j (the last one ending at
 * the key's last byte); a key under 4 bytes is its bytes above its length + 1 (never 0).
 */
function word(v: DataView, off: number, len: number, j: number): number {
  if (len < 4) {
    let w = len + 1;
    for (let i = 0; i < len; i++) w |= v.getUint8(off + i) << (8 * (i + 1));
    return w;
  }
  const at = 4 * j + 4 <= len ? 4 * j : len - 4;
  return v.getInt32(off + at, true);
}

/** Hash of a key's words (murmur3's finaliser: every input bit reaches the low bits the table uses). */
function hash(v: DataView, off: number, len: number): number {
  const n = wordCount(len);
  let h = len;
  for (let j = 0; j < n; j++) h = mix(h, word(v, off, len, j));
  return finish(h);
}

/** One word into a hash (`getShort` hashes its one word with it too: both must agree). */
function mix(h: number, w: number): number {
  return Math.imul(h ^ w, 0x9e3779b1);
}

/** murmur3's finaliser of a hash. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
