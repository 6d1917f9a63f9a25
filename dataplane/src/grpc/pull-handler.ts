/**
 * The `klagg.v1.WorkerService/Pull` handler: answers from a KlineEngine in
 * count- and byte-bounded chunks (see proto/klagg/v1/worker.proto for the
 * protocol), inside a server span continuing the caller's trace.
 */
import * as grpc from "@grpc/grpc-js";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { PullRequest } from "../gen/klagg/v1/worker_pb.js";
import type { Logger } from "../obs/log.js";
import { PullAnswerBuilder, type PullAnswer, type PullEngine } from "./pull-answer.js";
import { metadataGetter } from "./trace-metadata.js";
import { PULL_PATH } from "./service-def.js";

/** Default klines per chunk when the request leaves `max_klines_per_chunk` at 0. */
export const DEFAULT_MAX_KLINES_PER_CHUNK = 4096;
/** Estimated bytes per chunk: a quarter of gRPC's default 4 MiB receive limit. */
export const DEFAULT_MAX_CHUNK_BYTES = 1024 * 1024;

/** What one served pull did; the worker turns it into metrics and drain decisions. */
export interface PullInfo {
  readonly epoch: number;
  readonly ackVersion: number;
  readonly version: number;
  readonly full: boolean;
  readonly klines: number;
  readonly chunks: number;
  readonly seconds: number;
  /** False when the caller went away (deadline, cancel) before the last chunk was written. */
  readonly completed: boolean;
}

/** Settings of the pull handler. */
export interface PullHandlerOptions {
  /** The worker's name, echoed in every chunk. */
  readonly workerName: string;
  /** The engine; its row path (`pullRows`) is used when it has one. */
  readonly engine: PullEngine;
  /** The worker's symbols, sent on full answers. */
  readonly symbols: readonly string[];
  /** True once the source ended and every kline is closed (see PullChunk.source_done). */
  readonly sourceDone?: () => boolean;
  /** Upper bound of klines per chunk (the request may ask for fewer). */
  readonly maxKlinesPerChunk?: number;
  readonly maxChunkBytes?: number;
  readonly onPull?: (info: PullInfo) => void;
  readonly log?: Logger;
}

export { SYMBOLS_PER_CHUNK } from "./pull-answer.js";

const tracer = trace.getTracer("klagg-grpc");

/** Builds the grpc-js handler for `Pull`. */
export function createPullHandler(
  opts: PullHandlerOptions,
): grpc.handleServerStreamingCall<PullRequest, Buffer> {
  const maxCount = opts.maxKlinesPerChunk ?? DEFAULT_MAX_KLINES_PER_CHUNK;
  const maxBytes = opts.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  const builder = new PullAnswerBuilder(opts.engine);
  return (call) => {
    const parent = propagation.extract(ROOT_CONTEXT, call.metadata, metadataGetter);
    const span = tracer.startSpan(
      PULL_PATH.slice(1),
      {
        kind: SpanKind.SERVER,
        attributes: { "rpc.system": "grpc", "rpc.service": "klagg.v1.WorkerService", "rpc.method": "Pull" },
      },
      parent,
    );
    const started = performance.now();
    let cancelled = false;
    call.on("cancelled", () => {
      cancelled = true;
    });
    const finish = (info: Omit<PullInfo, "seconds">, err?: unknown): void => {
      const seconds = (performance.now() - started) / 1000;
      span.setAttributes({
        "klagg.epoch": info.epoch,
        "klagg.ack_version": info.ackVersion,
        "klagg.version": info.version,
        "klagg.full": info.full,
        "klagg.klines": info.klines,
        "klagg.chunks": info.chunks,
        "klagg.completed": info.completed,
      });
      if (err !== undefined) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      } else if (!info.completed) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: "caller cancelled before the last chunk" });
      }
      span.end();
      opts.onPull?.({ ...info, seconds });
    };

    const req = call.request;
    const epoch = Number(req.epoch);
    const ackVersion = Number(req.ackVersion);
    const requested = req.maxKlinesPerChunk;
    const count = requested > 0 ? Math.min(requested, maxCount) : maxCount;
    const base = { epoch, ackVersion, version: 0, full: false, klines: 0, chunks: 0, completed: false };

    void context.with(trace.setSpan(parent, span), async () => {
      let answer: PullAnswer;
      try {
        // Read source_done before the pull: both are synchronous, so they see one consistent state. The
        // whole answer is encoded before the first write: the engine changes once this handler yields.
        const sourceDone = opts.sourceDone?.() ?? false;
        answer = builder.answer(
          epoch,
          ackVersion,
          {
            worker: opts.workerName,
            sourceDone,
            maxCount: count,
            maxBytes,
            symbols: opts.symbols,
          },
          Number(req.sinceVersion),
        );
      } catch (err) {
        opts.log?.error("pull failed", { err, epoch, ack_version: ackVersion });
        call.emit("error", { code: grpc.status.INTERNAL, details: `pull failed: ${String(err)}` });
        finish(base, err);
        return;
      }
      const { head, chunks } = answer;
      const info = { ...base, version: head.version, full: head.full, klines: head.count };
      try {
        for (let i = 0; i < chunks.length && !cancelled; i++) {
          if (!call.write(chunks[i]!)) await waitDrain(call);
        }
      } catch (err) {
        // Never leave the caller waiting for a `last` chunk that will not come.
        opts.log?.error("pull answer failed", { err, epoch, ack_version: ackVersion });
        if (!cancelled)
          call.emit("error", { code: grpc.status.INTERNAL, details: `pull answer failed: ${String(err)}` });
        finish({ ...info, chunks: chunks.length }, err);
        return;
      }
      if (!cancelled) call.end();
      finish({ ...info, chunks: chunks.length, completed: !cancelled });
    });
  };
}

/** Resolves when the stream can take more, or the call ends (then the loop sees `cancelled`). */
function waitDrain(call: grpc.ServerWritableStream<PullRequest, Buffer>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off("drain", done);
      call.off("cancelled", done);
      call.off("close", done);
      resolve();
    };
    call.on("drain", done);
    call.on("cancelled", done);
    call.on("close", done);
  });
}
