/**
 * Test doubles for the gateway's ports: a worker that follows the pull
 * protocol (epochs, versions, closed klines retained until acked) and can be
 * made to hang or fail, a Kafka producer that records or fails, a log capture.
 * Test-only (also used by the benchmark).
 */
import { Registry } from "prom-client";
import { fromBinary } from "@bufbuild/protobuf";
import { KlineBatchSchema } from "../gen/klagg/v1/kline_pb.js";
import { createLogger, type Logger } from "../obs/log.js";
import type { Interval, KlineRecord } from "../core/types.js";
import { encodePullChunk, symbolRefsOf } from "../grpc/pull-encoder.js";
import { decodePullChunkRaw } from "../grpc/pull-raw-decoder.js";
import { RawKlineList } from "../grpc/raw-klines.js";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
import type {
  KafkaProducerPort,
  KafkaRecord,
  PullRequestArgs,
  PullResult,
  WireKline,
  WorkerPuller,
} from "./ports.js";

/** A mutable wire kline with number fields. */
export interface FakeKline extends WireKline {
  symbol: string;
  interval: string;
  openTime: number;
  closeTime: number;
  close: string;
  closed: boolean;
  version: number;
}

/** A kline with plausible values. */
export function makeKline(
  symbol: string,
  interval: string,
  openTime: number,
  close: string,
  version: number,
): FakeKline {
  return {
    symbol,
    interval,
    openTime,
    closeTime: openTime + 59_999,
    open: "100.00",
    high: "101.00",
    low: "99.00",
    close,
    volume: "1.500",
    quoteVolume: "150.00000",
    trades: 3,
    takerBuyVolume: "0.500",
    takerBuyQuoteVolume: "50.00000",
    firstTradeId: 1,
    lastTradeId: 3,
    closed: false,
    version,
  };
}

/** What the fake worker does with the next pulls. */
export type FakeMode = "ok" | "hang" | "fail";

/** An in-memory worker with the protocol of proto/klagg/v1/worker.proto. */
export class FakeWorker implements WorkerPuller {
  epoch: number;
  version: number;
  mode: FakeMode = "ok";
  sourceDone = false;
  readonly requests: PullRequestArgs[] = [];
  private readonly open = new Map<string, FakeKline>();
  private readonly retained = new Map<string, FakeKline>();

  constructor(
    readonly name: string,
    readonly symbols: readonly string[],
    epoch = 1000,
  ) {
    this.epoch = epoch;
    this.version = epoch * 1000;
  }

  /** Sets the open kline (symbol, interval, openTime) to a new close price (a new version). */
  set(symbol: string, interval: string, openTime: number, close: string): FakeKline {
    const k = makeKline(symbol, interval, openTime, close, ++this.version);
    this.open.set(`${symbol}|${interval}|${openTime}`, k);
    return k;
  }

  /** Closes an open kline (a new version) and retains it until acked. */
  closeKline(symbol: string, interval: string, openTime: number): FakeKline {
    const key = `${symbol}|${interval}|${openTime}`;
    const k = this.open.get(key);
    if (k === undefined) throw new Error(`no open kline ${key}`);
    this.open.delete(key);
    const c = { ...k, closed: true, version: ++this.version };
    this.retained.set(key, c);
    return c;
  }

  /** A restart: new epoch, state lost except what `keep` re-creates. */
  restart(newEpoch: number): void {
    this.epoch = newEpoch;
    this.version = newEpoch * 1000;
    this.open.clear();
    this.retained.clear();
  }

  get retainedCount(): number {
    return this.retained.size;
  }

  pull(req: PullRequestArgs, _deadlineMs: number, signal?: AbortSignal): Promise<PullResult> {
    this.requests.push(req);
    if (this.mode === "hang") {
      return new Promise((_, reject) => {
        signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      });
    }
    if (this.mode === "fail") return Promise.reject(new Error(`worker ${this.name} unavailable`));
    const full = req.epoch !== this.epoch;
    const ack = full ? 0 : req.ackVersion;
    for (const [key, k] of this.retained) if (!full && k.version <= ack) this.retained.delete(key);
    const all = [...this.retained.values(), ...this.open.values()];
    const klines = full ? all : all.filter((k) => k.version > ack);
    return Promise.resolve({
      worker: this.name,
      epoch: this.epoch,
      version: this.version,
      full,
      sourceDone: this.sourceDone,
      symbols: full ? this.symbols : [],
      klines: klines.map((k) => ({ ...k })),
    });
  }
}

/**
 * The answer as the gRPC client hands it over in raw mode: the klines encoded by the worker's
 * Pull encoder, then located by the raw decoder; `klines` is left empty so a gateway that read
 * it would see nothing. With `refList`, each kline carries its symbol's index in that list as its
 * symbol ref (the worker's own symbol list; any other list makes the refs wrong).
 */
export function toRawResult(r: PullResult, refList?: readonly string[]): PullResult {
  const recs = r.klines.map((k): KlineRecord => ({
    ...k,
    interval: k.interval as Interval,
    openTime: Number(k.openTime),
    closeTime: Number(k.closeTime),
    trades: Number(k.trades),
    firstTradeId: Number(k.firstTradeId),
    lastTradeId: Number(k.lastTradeId),
    version: Number(k.version),
  }));
  const head = {
    worker: r.worker,
    epoch: r.epoch,
    version: r.version,
    full: r.full,
    sourceDone: r.sourceDone,
  };
  const raw = new RawKlineList(4);
  const index = new Map((refList ?? []).map((s, i) => [s, i]));
  const refs = (from: number, to: number): Int32Array | undefined =>
    refList === undefined ? undefined : symbolRefsOf(recs, from, to, index);
  // Two chunks when there is more than one kline: klines of one answer span several buffers.
  const cut = recs.length >> 1;
  decodePullChunkRaw(encodePullChunk(head, false, 0, recs, 0, cut, r.symbols, refs(0, cut)), raw);
  decodePullChunkRaw(encodePullChunk(head, true, 1, recs, cut, recs.length, [], refs(cut, recs.length)), raw);
  return { ...r, klines: [], raw };
}

/** Wraps a puller so its answers arrive as raw kline bytes (see `toRawResult`). */
export class RawPuller implements WorkerPuller {
  constructor(readonly inner: WorkerPuller) {}
  async pull(req: PullRequestArgs, deadlineMs: number, signal?: AbortSignal): Promise<PullResult> {
    return toRawResult(await this.inner.pull(req, deadlineMs, signal));
  }
  close(): void | Promise<void> {
    return this.inner.close?.();
  }
}

/** A Kafka producer that records what it sends, optionally failing or stalling. */
export class FakeProducer implements KafkaProducerPort {
  readonly records: KafkaRecord[] = [];
  fail = false;
  sends = 0;
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;

  /** Makes sends wait until `resume()`. */
  stall(): void {
    this.gate = new Promise((r) => (this.release = r));
  }

  resume(): void {
    this.release?.();
    this.gate = undefined;
  }

  async send(records: readonly KafkaRecord[]): Promise<void> {
    this.sends++;
    if (this.gate) await this.gate;
    if (this.fail) throw new Error("broker unavailable");
    this.records.push(...records);
  }

  async close(): Promise<void> {
    this.resume();
  }

  /** Every kline delivered, decoded. */
  klines(): {
    symbol: string;
    interval: string;
    openTime: number;
    closed: boolean;
    version: number;
    close: string;
  }[] {
    return this.records.flatMap((r) =>
      fromBinary(KlineBatchSchema, r.value).klines.map((k) => ({
        symbol: k.symbol,
        interval: k.interval,
        openTime: Number(k.openTime),
        closed: k.closed,
        version: Number(k.version),
        close: k.close,
      })),
    );
  }
}

/** A logger whose lines are kept as parsed objects. */
export function captureLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("gateway", { level: "debug", sink: (l) => lines.push(JSON.parse(l)) });
  return { log, lines };
}

/** Fresh metrics on their own registry. */
export function testMetrics(): { metrics: GatewayMetrics; registry: Registry } {
  const registry = new Registry();
  return { metrics: createGatewayMetrics(registry), registry };
}

/** The value of a metric with the given labels (undefined when unset). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  if (m === undefined) return undefined;
  const data = await m.get();
  const v = data.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value;
}
