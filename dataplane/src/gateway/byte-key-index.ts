/**
 * Looks strings up by their UTF-8 bytes inside a buffer, without creating a
 * string: the gateway finds a raw kline's symbol and interval index straight
 * from the chunk bytes (a string per kline would be ~8,000 allocations a tick).
 * Open addressing over an FNV-1a hash; keys are compared byte by byte.
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
    let p = 0;
    encoded.forEach((e, i) => {
      this.keyBytes.set(e, p);
      this.keyOff[i] = p;
      this.keyLen[i] = e.length;
      p += e.length;
      // A duplicate key keeps its first index, like a Map filled in order would not: callers pass unique keys.
      if (this.get(e, 0, e.length) >= 0) return;
      let h = hash(e, 0, e.length) & this.mask;
      while (this.table[h] !== 0) h = (h + 1) & this.mask;
      this.table[h] = i + 1;
    });
  }

  /** Index of the key equal to `buf[off, off + len)`, or -1. */
  get(buf: Uint8Array, off: number, len: number): number {
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
}

function hash(b: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}
