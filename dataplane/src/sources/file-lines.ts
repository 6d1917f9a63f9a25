/**
 * Streams a file's lines, plain or gzip (detected by its magic bytes, not its
 * name), in batches (one per read chunk) so callers pay one await per chunk,
 * not per line. Memory stays bounded: one chunk plus at most one line.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { isGzip } from "./detect.js";
import { LineSplitter, MAX_LINE_BYTES, type SplitLine } from "./line-splitter.js";

/** Opens `path` as a byte stream, gunzipping it when it starts with the gzip magic bytes. */
export async function openMaybeGzip(path: string, signal?: AbortSignal): Promise<Readable> {
  const fh = await open(path, "r");
  let head: Buffer;
  try {
    head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const raw = createReadStream(path, { highWaterMark: 64 * 1024, signal });
  if (!isGzip(head)) return raw;
  const gunzip = createGunzip();
  raw.on("error", (e) => gunzip.destroy(e));
  gunzip.on("close", () => raw.destroy());
  return raw.pipe(gunzip);
}

/** Yields the file's lines in batches; a too-long line comes as a marker, never buffered whole. */
export async function* fileLines(
  path: string,
  signal?: AbortSignal,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<SplitLine[]> {
  const stream = await openMaybeGzip(path, signal);
  const splitter = new LineSplitter(maxLineBytes);
  try {
    for await (const chunk of stream) {
      const lines = splitter.push(chunk as Buffer);
      if (lines.length > 0) yield lines;
    }
    const last = splitter.end();
    if (last.length > 0) yield last;
  } finally {
    stream.destroy();
  }
}
