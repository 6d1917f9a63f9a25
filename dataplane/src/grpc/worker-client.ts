/**
 * The gateway's client of one worker: one long-lived channel, one
 * server-streaming `Pull` per tick assembled into a complete answer, or a
 * typed error naming the worker and the reason (deadline, unavailable, broken
 * stream, protocol violation). A partial answer is never returned.
 */
import * as grpc from "@grpc/grpc-js";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { PullResult as GatewayPullResult } from "../gateway/ports.js";
import type { Kline } from "../gen/klagg/v1/kline_pb.js";
import type { PullChunk } from "../gen/klagg/v1/worker_pb.js";
import { ServingStatus } from "./health.js";
import { DecodeError } from "./pull-decoder.js";
import { decodePullChunkRaw, type RawChunkHead } from "./pull-raw-decoder.js";
import { RawKlineList } from "./raw-klines.js";
import {
  HEALTH_CHECK_PATH,
  healthRequestCodec,
  healthResponseCodec,
  fastPullChunkDeserialize,
  PULL_PATH,
  pullRequestCodec,
} from "./service-def.js";
import { metadataSetter } from "./trace-metadata.js";

/**
 * A complete pull answer, assembled from every chunk: the gateway's `PullResult` port
 * (field meanings there) with the client's concrete kline types.
 */
export interface PullResult extends GatewayPullResult {
  /**
   * Wire klines (64-bit fields are bigint, see kline-proto.ts for conversion). With the
   * `rawKlines` option they are decoded from `raw` on first access only.
   */
  readonly klines: readonly Kline[];
  /**
   * With the `rawKlines` option: the klines as undecoded wire bytes (views into the
   * received chunks) plus symbol/interval byte ranges, open time, version and closed.
   */
  readonly raw?: RawKlineList;
  /** Chunks the answer arrived in. */
  readonly chunks: number;
}

/** Why a pull failed: a gRPC status name, or INCOMPLETE / PROTOCOL for a broken answer. */
export type PullErrorCode = keyof typeof grpc.status | "INCOMPLETE" | "PROTOCOL";

/** A failed pull: which worker, and why. */
export class WorkerPullError extends Error {
  constructor(
    /** The worker's configured name (or address). */
    readonly worker: string,
    readonly code: PullErrorCode,
    readonly detail: string,
  ) {
    super(`pull from worker ${worker} failed: ${code}: ${detail}`);
    this.name = "WorkerPullError";
  }
}

/** Settings of a worker client. */
export interface WorkerClientOptions {
  /** Name used in errors, spans and logs; defaults to the address. */
  readonly name?: string;
  /** Client keepalive ping interval (default 10 s): a dead worker is noticed between ticks. */
  readonly keepaliveMs?: number;
  /** Klines per chunk asked of the worker (0 = the worker's default). */
  readonly maxKlinesPerChunk?: number;
  /**
   * Return klines as raw wire bytes (`PullResult.raw`) instead of decoding them into
   * objects; `klines` then decodes lazily when read. The gateway's fast path.
   */
  readonly rawKlines?: boolean;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: grpc.ChannelOptions;
}

const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k])) as Record<
  number,
  keyof typeof grpc.status
>;

/** The WorkerPullError of a failed gRPC call (`err` undefined: the call ended without an answer). */
function callError(
  worker: string,
  err: grpc.ServiceError | null | undefined,
  missing: string,
): WorkerPullError {
  if (!err) return new WorkerPullError(worker, "INCOMPLETE", missing);
  return new WorkerPullError(worker, STATUS_NAMES[err.code] ?? "UNKNOWN", err.details || err.message);
}

const tracer = trace.getTracer("klagg-grpc");

/** A client of one worker's Pull and health services. */
export class WorkerClient {
  readonly name: string;
  private readonly client: grpc.Client;
  private readonly maxKlinesPerChunk: number;
  private readonly rawKlines: boolean;

  constructor(
    readonly address: string,
    opts: WorkerClientOptions = {},
  ) {
    this.name = opts.name ?? address;
    this.maxKlinesPerChunk = opts.maxKlinesPerChunk ?? 0;
    this.rawKlines = opts.rawKlines ?? false;
    const keepalive = opts.keepaliveMs ?? 10_000;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      "grpc.keepalive_time_ms": keepalive,
      "grpc.keepalive_timeout_ms": Math.min(keepalive, 5_000),
      "grpc.keepalive_permit_without_calls": 1,
      // A restarted worker pod is back within seconds: do not back off for minutes.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 2_000,
      "grpc.enable_retries": 0,
      ...opts.channelOptions,
    });
  }

  /**
   * Pulls the changes after `ackVersion` (or the full state when `epoch` is not
   * the worker's). Rejects with WorkerPullError when `deadlineMs` passes, the
   * signal aborts, or the stream ends before the `last` chunk.
   */
  pull(
    req: { epoch: number; ackVersion: number; sinceVersion?: number },
    deadlineMs: number,
    signal?: AbortSignal,
  ): Promise<PullResult> {
    const span = tracer.startSpan(PULL_PATH.slice(1), {
      kind: SpanKind.CLIENT,
      attributes: {
        "rpc.system": "grpc",
        "rpc.service": "klagg.v1.WorkerService",
        "rpc.method": "Pull",
        "klagg.worker": this.name,
        "klagg.epoch": req.epoch,
        "klagg.ack_version": req.ackVersion,
      },
    });
    const metadata = new grpc.Metadata();
    propagation.inject(trace.setSpan(context.active(), span), metadata, metadataSetter);
    return new Promise<PullResult>((resolve, reject) => {
      const fail = (err: WorkerPullError): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        span.setAttribute("rpc.grpc.status_code", err.code);
        span.end();
        call.cancel();
        reject(err);
      };
      let settled = false;
      if (signal?.aborted) {
        settled = true;
        span.end();
        reject(new WorkerPullError(this.name, "CANCELLED", "aborted before the call"));
        return;
      }
      const call = this.client.makeServerStreamRequest(
        PULL_PATH,
        pullRequestCodec.serialize,
        (this.rawKlines ? rawChunkDeserialize : fastPullChunkDeserialize) as (
          b: Buffer,
        ) => PullChunk | Buffer,
        {
          $typeName: "klagg.v1.PullRequest",
          epoch: BigInt(req.epoch),
          ackVersion: BigInt(req.ackVersion),
          sinceVersion: BigInt(req.sinceVersion ?? 0),
          maxKlinesPerChunk: this.maxKlinesPerChunk,
        },
        metadata,
        { deadline: Date.now() + deadlineMs },
      );
      const onAbort = (): void => fail(new WorkerPullError(this.name, "CANCELLED", "aborted by the caller"));
      signal?.addEventListener("abort", onAbort, { once: true });

      const assembler = this.rawKlines ? new RawChunkAssembler() : new ChunkAssembler();
      call.on("data", (chunk: PullChunk | Buffer) => {
        if (settled) return;
        let problem: string | undefined;
        try {
          problem = assembler.add(chunk as PullChunk & Buffer);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          problem = `undecodable chunk: ${err.message}`;
        }
        if (problem !== undefined) fail(new WorkerPullError(this.name, "PROTOCOL", problem));
      });
      call.on("error", (err: grpc.ServiceError) => fail(callError(this.name, err, "")));
      call.on("end", () => {
        if (settled) return;
        const result = assembler.result();
        if (result === undefined) {
          fail(
            new WorkerPullError(
              this.name,
              "INCOMPLETE",
              `stream ended after ${assembler.chunks} chunks without last`,
            ),
          );
          return;
        }
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        span.setAttributes({
          "klagg.version": result.version,
          "klagg.full": result.full,
          "klagg.klines": result.raw?.count ?? result.klines.length,
          "klagg.chunks": result.chunks,
        });
        span.end();
        resolve(result);
      });
    });
  }

  /** The health status of `service` ("" = the whole server), or a WorkerPullError. */
  checkHealth(service = "", deadlineMs = 1000): Promise<keyof typeof ServingStatus> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        HEALTH_CHECK_PATH,
        healthRequestCodec.serialize,
        healthResponseCodec.deserialize,
        { $typeName: "grpc.health.v1.HealthCheckRequest", service },
        { deadline: Date.now() + deadlineMs },
        (err, res) => {
          if (err || !res) {
            reject(callError(this.name, err, "no health response"));
            return;
          }
          resolve((ServingStatus[res.status] ?? "UNKNOWN") as keyof typeof ServingStatus);
        },
      );
    });
  }

  /** Closes the channel; pending calls fail with CANCELLED/UNAVAILABLE. */
  close(): void {
    this.client.close();
  }
}

/** Raw mode: grpc-js hands over the message bytes as they are; the assembler decodes them. */
const rawChunkDeserialize = (bytes: Buffer): Buffer => bytes;

/** The head fields of a PullChunk both decoders expose (the object one with 64-bit fields as bigint). */
type ChunkHead = Pick<RawChunkHead, "worker" | "full" | "last" | "chunkIndex" | "symbols" | "sourceDone"> & {
  readonly epoch: number | bigint;
  readonly version: number | bigint;
};

/** What both assemblers check and collect: chunks in order, all of one answer, up to the last. */
class ChunkSequence<H extends ChunkHead> {
  chunks = 0;
  first: H | undefined;
  last = false;
  readonly symbols: string[] = [];
  sourceDone = false;

  /** Takes the next chunk's head; returns a protocol problem, or undefined. */
  take(chunk: H): string | undefined {
    if (this.last) return "chunk after the last chunk";
    if (chunk.chunkIndex !== this.chunks) return `chunk ${chunk.chunkIndex} arrived, expected ${this.chunks}`;
    const f = this.first;
    if (f === undefined) this.first = chunk;
    else if (f.epoch !== chunk.epoch || f.version !== chunk.version || f.full !== chunk.full) {
      return `chunk ${chunk.chunkIndex} is from another answer (epoch/version/full differ)`;
    }
    this.chunks++;
    for (const s of chunk.symbols) this.symbols.push(s);
    this.sourceDone = chunk.sourceDone;
    this.last = chunk.last;
    return undefined;
  }

  /** The answer's fields once the last chunk arrived. */
  result(): Omit<PullResult, "klines" | "raw"> | undefined {
    const f = this.first;
    if (!this.last || f === undefined) return undefined;
    return {
      worker: f.worker,
      epoch: Number(f.epoch),
      version: Number(f.version),
      full: f.full,
      sourceDone: this.sourceDone,
      symbols: this.symbols,
      chunks: this.chunks,
    };
  }
}

/** Raw mode: decodes each chunk's klines into one RawKlineList (decoded to objects only if asked). */
class RawChunkAssembler {
  private readonly seq = new ChunkSequence<RawChunkHead>();
  private readonly list = new RawKlineList(1024);

  get chunks(): number {
    return this.seq.chunks;
  }

  add(bytes: Buffer): string | undefined {
    if (this.seq.last) return "chunk after the last chunk"; // before its klines join the list
    return this.seq.take(decodePullChunkRaw(bytes, this.list));
  }

  result(): PullResult | undefined {
    const head = this.seq.result();
    if (head === undefined) return undefined;
    const raw = this.list;
    let klines: Kline[] | undefined;
    return {
      ...head,
      get klines(): Kline[] {
        klines ??= raw.decodeAll();
        return klines;
      },
      raw,
    };
  }
}

/** Collects the chunks (decoded to objects) of one answer. */
class ChunkAssembler {
  private readonly seq = new ChunkSequence<PullChunk>();
  private readonly klines: Kline[] = [];

  get chunks(): number {
    return this.seq.chunks;
  }

  /** Adds a chunk; returns a protocol problem, or undefined. */
  add(chunk: PullChunk): string | undefined {
    const problem = this.seq.take(chunk);
    if (problem === undefined) for (const k of chunk.klines) this.klines.push(k);
    return problem;
  }

  result(): PullResult | undefined {
    const head = this.seq.result();
    return head === undefined ? undefined : { ...head, klines: this.klines };
  }
}
