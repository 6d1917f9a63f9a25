/**
 * A growable, reusable protobuf wire-format writer for the gateway's hot path.
 *
 * protobuf-es's reflective `toBinary` costs microseconds per message; the
 * gateway encodes thousands of klines per tick, so it writes the few message
 * shapes it produces by hand (see `kline-codec.ts`) into one buffer that is
 * reused tick after tick. Output is byte-identical to protobuf-es (fields in
 * number order, proto3 defaults omitted); tests check that.
 */

const textEncoder = new TextEncoder();

/** Appends protobuf wire-format values to an internal buffer that grows as needed. */
export class ByteWriter {
  /** A Buffer (not a plain Uint8Array) so `copy` to another buffer needs no view allocation. */
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(16, initialBytes));
  }

  /** Forgets the content, keeps the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A copy of bytes [start, end) (the writer's buffer is reused, so callers never keep views of it). */
  copy(start: number, end: number): Uint8Array {
    const out = new Uint8Array(end - start);
    out.set(this.buf.subarray(start, end));
    return out;
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(n: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (n > 0x7f) {
      // `n & 0x7f` is exact for safe integers: ToInt32 reduces modulo 2^32.
      b[p++] = (n & 0x7f) | 0x80;
      n = (n - (n & 0x7f)) / 128;
    }
    b[p++] = n;
    this.pos = p;
  }

  /** int64/uint64 varint of a safe integer; negatives take 10 bytes (two's complement). */
  int64(n: number): void {
    if (n >= 0) {
      this.varint(n);
      return;
    }
    this.ensure(10);
    let lo = (n % 0x1_0000_0000) >>> 0;
    let hi = Math.floor(n / 0x1_0000_0000) >>> 0;
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < 9; i++) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi = hi >>> 7;
    }
    b[p++] = lo & 0x01;
    this.pos = p;
  }

  /** A one- or two-byte field tag, precomputed by the caller as its varint value. */
  tag(t: number): void {
    this.varint(t);
  }

  /** A length-delimited string field; omitted when empty (proto3 default). `tag` must be below 128. */
  stringField(tag: number, s: string): void {
    const len = s.length;
    if (len === 0) return;
    if (len < 128) {
      // Fast path: ASCII strings shorter than 128 bytes (every decimal, interval and symbol in practice).
      if (this.pos + len + 2 > this.buf.length) this.ensure(len + 2);
      const b = this.buf;
      const start = this.pos;
      b[start] = tag;
      b[start + 1] = len;
      let p = start + 2;
      for (let i = 0; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.pos = start;
          this.slowString(tag, s);
          return;
        }
        b[p++] = c;
      }
      this.pos = p;
      return;
    }
    this.slowString(tag, s);
  }

  private slowString(tag: number, s: string): void {
    const bytes = textEncoder.encode(s);
    this.varint(tag);
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A varint field of a safe integer; omitted when 0. */
  int64Field(tag: number, n: number): void {
    if (n === 0) return;
    this.varint(tag);
    this.int64(n);
  }

  /** A bool field; omitted when false. */
  boolField(tag: number, v: boolean): void {
    if (!v) return;
    this.varint(tag);
    this.ensure(1);
    this.buf[this.pos++] = 1;
  }

  /** Raw bytes. */
  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /**
   * Starts a length-delimited field whose length is not known yet: writes the
   * tag and reserves two bytes for the length. Returns the mark for `endLengthDelimited`.
   */
  beginLengthDelimited(tag: number): number {
    this.varint(tag);
    this.ensure(2);
    const mark = this.pos;
    this.pos += 2;
    return mark;
  }

  /** Writes the length reserved at `mark`, moving the body when the varint is not two bytes long. */
  endLengthDelimited(mark: number): void {
    const bodyStart = mark + 2;
    const len = this.pos - bodyStart;
    if (len >= 128 && len < 16384) {
      this.buf[mark] = (len & 0x7f) | 0x80;
      this.buf[mark + 1] = len >>> 7;
      return;
    }
    let lenBytes = 1;
    for (let v = len; v > 0x7f; v = Math.floor(v / 128)) lenBytes++;
    const shift = lenBytes - 2;
    if (shift > 0) this.ensure(shift);
    this.buf.copyWithin(bodyStart + shift, bodyStart, this.pos);
    const end = this.pos + shift;
    this.pos = mark;
    this.varint(len);
    this.pos = end;
  }
}
