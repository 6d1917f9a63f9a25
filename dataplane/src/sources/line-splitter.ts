/**
 * Splits a byte stream into text lines with a hard maximum line length.
 *
 * Unlike node:readline, an overlong line is never buffered: once a partial
 * line exceeds the limit its bytes are dropped until the next newline and the
 * line is reported as too long (with its full length), so a hostile or
 * corrupt file cannot make us buffer unbounded data.
 */

/** Default maximum line length, bytes (excluding the newline). */
export const MAX_LINE_BYTES = 64 * 1024;

/** A line that exceeded the maximum; only its length is kept. */
export interface TooLongLine {
  readonly tooLong: true;
  readonly bytes: number;
}

/** One item out of the splitter: a line's text (without "\n" or "\r\n") or a too-long marker. */
export type SplitLine = string | TooLongLine;

const NL = 0x0a;
const CR = 0x0d;

/** Incremental splitter: push chunks, get the complete lines; `end()` flushes the last line. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;
  /** Bytes of the current line dropped because it is already too long; -1 when not dropping. */
  private dropped = -1;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** Returns the lines completed by `chunk`, in order. */
  push(chunk: Buffer): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) break;
      this.finish(chunk.subarray(start, nl), out);
      start = nl + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
    return out;
  }

  /** Flushes a last line without a trailing newline. */
  end(): SplitLine[] {
    const out: SplitLine[] = [];
    if (this.partLen > 0 || this.dropped >= 0) this.finish(Buffer.alloc(0), out);
    return out;
  }

  private append(b: Buffer): void {
    if (this.dropped >= 0) {
      this.dropped += b.length;
      return;
    }
    if (this.partLen + b.length > this.maxBytes + 1) {
      // +1 tolerates a "\r" that belongs to a "\r\n" ending.
      this.dropped = this.partLen + b.length;
      this.parts = [];
      this.partLen = 0;
      return;
    }
    // Copy: the caller may reuse the chunk's memory.
    this.parts.push(Buffer.from(b));
    this.partLen += b.length;
  }

  private finish(tail: Buffer, out: SplitLine[]): void {
    if (this.dropped >= 0) {
      out.push({ tooLong: true, bytes: this.dropped + tail.length });
      this.dropped = -1;
      return;
    }
    let line: Buffer;
    if (this.partLen === 0) line = tail;
    else {
      this.parts.push(tail);
      line = Buffer.concat(this.parts, this.partLen + tail.length);
      this.parts = [];
      this.partLen = 0;
    }
    let len = line.length;
    if (len > 0 && line[len - 1] === CR) len--;
    if (len > this.maxBytes) out.push({ tooLong: true, bytes: len });
    else out.push(line.toString("utf8", 0, len));
  }
}

/** True when `l` is a too-long marker. */
export function isTooLong(l: SplitLine): l is TooLongLine {
  return typeof l !== "string";
}
