/**
 * Looks strings up by their UTF-8 bytes inside a buffer, without creating a
 * string: the gateway finds a raw kline's symbol and interval index straight
 * from the chunk bytes (a string per kline would be ~8,000 allocations a tick).
 * Open addressing over an FNV-1a hash; keys are compared byte by byte. When
 * every key has at most 3 bytes (the intervals), a key and its length pack
 * into one integer, hashed and compared at once (no byte loop).
 */
const encoder = new TextEncoder();

/** Fixed set of keys, each mapped to its position in the constructor's list. */
export class ByteKeyIndex {
  private readonly mask: number;
  /** Slot -> key index + 1 (0 = empty). */
  private readonly table: Int32Array;
  private readonly keyBytes: Uint8Array;
  private readonly keyOff: Int32Array;
  private readonly keyLen: Int32Array;
  /** Packed mode (every key at most 3 bytes): each slot's packed key (0 = empty: a packed key never is). */
  private readonly packed: Int32Array | undefined;

  constructor(keys: readonly string[]) {
    const encoded = keys.map((k) => encoder.encode(k));
    let total = 0;
    for (const e of encoded) total += e.length;
    this.keyBytes = new Uint8Array(total);
    this.keyOff = new Int32Array(keys.length);
    this.keyLen = new Int32Array(keys.length);
    let size = 16;
    while (size < keys.length * 2) size *= 2;
    this.mask = size - 1;
    this.table = new Int32Array(size);
    const short = encoded.every((e) => e.length <= 3);
    this.packed = short ? new Int32Array(size) : undefined;
    let p = 0;
    encoded.forEach((e, i) => {
      this.keyBytes.set(e, p);
      this.keyOff[i] = p;
      this.keyLen[i] = e.length;
      p += e.length;
      // A duplicate key keeps its first index, like a Map filled in order would not: callers pass unique keys.
      if (this.get(e, 0, e.length) >= 0) return;
      const key = short ? pack(e, 0, e.length) : 0;
      let h = (short ? packedHash(key) : hash(e, 0, e.length)) & this.mask;
      while (this.table[h] !== 0) h = (h + 1) & this.mask;
      this.table[h] = i + 1;
      if (this.packed !== undefined) this.packed[h] = key;
    });
  }

  /** Index of the key equal to `buf[off, off + len)`, or -1. */
  get(buf: Uint8Array, off: number, len: number): number {
    if (this.packed !== undefined) return this.getPacked(buf, off, len);
    const kb = this.keyBytes;
    let h = hash(buf, off, len) & this.mask;
    for (;;) {
      const e = this.table[h]!;
      if (e === 0) return -1;
      const k = e - 1;
      if (this.keyLen[k] === len) {
        const ko = this.keyOff[k]!;
        let i = 0;
        while (i < len && kb[ko + i] === buf[off + i]) i++;
        if (i === len) return k;
      }
      h = (h + 1) & this.mask;
    }
  }

  private getPacked(buf: Uint8Array, off: number, len: number): number {
    if (len > 3) return -1;
    const packed = this.packed!;
    const key = pack(buf, off, len);
    let h = packedHash(key) & this.mask;
    for (;;) {
      const e = this.table[h]!;
      if (e === 0) return -1;
      if (packed[h] === key) return e - 1;
      h = (h + 1) & this.mask;
    }
  }
}

function hash(b: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** Up to 3 bytes and their count in one int32: the low byte is the count + 1, so a packed key is never 0. */
function pack(b: Uint8Array, off: number, len: number): number {
  let v = len + 1;
  for (let i = 0; i < len; i++) v |= b[off + i]! << (8 * (i + 1));
  return v;
}

/** Fibonacci hashing of a packed key (its high bits are the well-mixed ones). */
function packedHash(key: number): number {
  return Math.imul(key, 0x9e3779b1) >>> 16;
}
