/**
 * Builds the PullChunk messages of one pull answer, synchronously (the
 * engine's state may change as soon as the handler yields). Two paths with
 * byte-identical klines:
 * - rows (the real engine): `engine.pullRows` hands every changed kline's
 *   table row to a `KlineRowEncoder`, which writes protobuf bytes straight
 *   from the typed arrays; chunks are slices of those bytes, with each
 *   kline's `symbol_refs` entry (the engine's symbol index, when the engine's
 *   symbols are the ones the full answers send);
 * - records (engines offering only `pull`, e.g. the test fake): `KlineRecord`
 *   objects encoded by `encodePullChunk`, with symbol refs looked up by name
 *   in the symbols the full answers send.
 * Chunks hold at most `maxCount` klines and (except a single oversize kline)
 * at most `maxBytes` bytes of klines.
 */
import type { KlineEngine, PullHead } from "../core/engine-api.js";
import { planChunks } from "./kline-proto.js";
import { KlineRowEncoder } from "./kline-row-encoder.js";
import { encodePullChunk, encodePullChunkBytes, symbolRefsOf, type ChunkHead } from "./pull-encoder.js";

/** What a pull-answering engine offers: `pull`, and the row path when it has one. */
export type PullEngine = Pick<KlineEngine, "pull"> &
  Partial<Pick<KlineEngine, "pullRows" | "symbols" | "intervals">>;

/** Settings of one answer. */
export interface AnswerOptions {
  readonly worker: string;
  readonly sourceDone: boolean;
  readonly maxCount: number;
  readonly maxBytes: number;
  /** The worker's symbols, sent on full answers. */
  readonly symbols: readonly string[];
}

/** One answer: its head and the encoded chunks, the last one flagged `last`. */
export interface PullAnswer {
  readonly head: PullHead;
  readonly chunks: Buffer[];
}

/**
 * Symbols per chunk: 4,096 symbols of at most 40 bytes stay under 180 KB, so a
 * chunk with klines up to its byte budget (1 MiB) remains far below 4 MiB.
 */
export const SYMBOLS_PER_CHUNK = 4096;

/** Builds answers for one engine; keeps the row encoder (and its buffer) from pull to pull. */
export class PullAnswerBuilder {
  private encoder: KlineRowEncoder | undefined;
  /** The symbols `index` and `rowRefs` were made for. */
  private indexOf: readonly string[] | undefined;
  private index = new Map<string, number>();
  /** Whether the row encoder's refs (engine symbol indexes) index those symbols. */
  private rowRefs = false;

  constructor(private readonly engine: PullEngine) {}

  /** Pulls from the engine and encodes the answer. */
  answer(epoch: number, ackVersion: number, opts: AnswerOptions, sinceVersion = ackVersion): PullAnswer {
    const e = this.engine;
    if (e.pullRows === undefined || e.symbols === undefined || e.intervals === undefined) {
      return this.fromRecords(epoch, ackVersion, opts, sinceVersion);
    }
    this.encoder ??= new KlineRowEncoder(e.symbols, e.intervals);
    const enc = this.encoder;
    this.symbolIndex(opts.symbols);
    enc.reset();
    const head = e.pullRows(epoch, ackVersion, enc, sinceVersion);
    const ranges: Array<[number, number]> = [];
    let from = 0;
    let fromByte = 0;
    for (let i = 0; i < enc.count; i++) {
      const end = enc.ends[i]!;
      if (i > from && (i - from >= opts.maxCount || end - fromByte > opts.maxBytes)) {
        ranges.push([from, i]);
        from = i;
        fromByte = enc.ends[i - 1]!;
      }
    }
    ranges.push([from, enc.count]);
    const symbolSlices = head.full ? sliceSymbols(opts.symbols) : [];
    const n = Math.max(ranges.length, symbolSlices.length);
    const chunks: Buffer[] = [];
    const ch = chunkHead(head, opts);
    for (let i = 0; i < n; i++) {
      const [a, b] = ranges[i] ?? [0, 0];
      const refs = this.rowRefs ? enc.refSlice(a, b) : undefined;
      chunks.push(encodePullChunkBytes(ch, i === n - 1, i, enc.slice(a, b), symbolSlices[i] ?? [], refs));
    }
    return { head, chunks };
  }

  private fromRecords(
    epoch: number,
    ackVersion: number,
    opts: AnswerOptions,
    sinceVersion: number,
  ): PullAnswer {
    const view = this.engine.pull(epoch, ackVersion, sinceVersion);
    const head: PullHead = {
      epoch: view.epoch,
      version: view.version,
      full: view.full,
      count: view.klines.length,
    };
    const ranges = planChunks(view.klines, opts.maxCount, opts.maxBytes);
    const symbolSlices = view.full ? sliceSymbols(opts.symbols) : [];
    const n = Math.max(ranges.length, symbolSlices.length);
    const chunks: Buffer[] = [];
    const ch = chunkHead(head, opts);
    for (let i = 0; i < n; i++) {
      const [a, b] = ranges[i] ?? [0, 0];
      const refs = symbolRefsOf(view.klines, a, b, this.symbolIndex(opts.symbols));
      chunks.push(encodePullChunk(ch, i === n - 1, i, view.klines, a, b, symbolSlices[i] ?? [], refs));
    }
    return { head, chunks };
  }

  /** Symbol -> index in `symbols` (the list full answers send, which symbol refs index). */
  private symbolIndex(symbols: readonly string[]): ReadonlyMap<string, number> {
    if (this.indexOf !== symbols) {
      this.indexOf = symbols;
      this.index = new Map(symbols.map((s, i) => [s, i]));
      // The row path's refs are the engine's symbol indexes: valid when the lists agree.
      const own = this.engine.symbols;
      this.rowRefs =
        own !== undefined && own.length === symbols.length && own.every((s, i) => s === symbols[i]);
    }
    return this.index;
  }
}

function chunkHead(head: PullHead, opts: AnswerOptions): ChunkHead {
  return {
    worker: opts.worker,
    epoch: head.epoch,
    version: head.version,
    full: head.full,
    sourceDone: opts.sourceDone,
  };
}

function sliceSymbols(symbols: readonly string[]): Array<readonly string[]> {
  const out: Array<readonly string[]> = [];
  for (let i = 0; i < symbols.length; i += SYMBOLS_PER_CHUNK)
    out.push(symbols.slice(i, i + SYMBOLS_PER_CHUNK));
  return out;
}
