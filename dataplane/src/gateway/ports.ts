/**
 * The gateway's ports: what it needs from workers, snapshot readers and Kafka.
 * The core (`gateway.ts`) only sees these interfaces, so it runs against fakes
 * in unit tests and benchmarks, and against the gRPC `WorkerClient`, Redis and
 * Kafka adapters in production.
 */

/**
 * A kline as it arrives from a worker: structurally the generated
 * `klagg.v1.Kline` (whose 64-bit fields are bigint), but numbers are accepted
 * too so fakes can use plain records.
 */
export interface WireKline {
  readonly symbol: string;
  readonly interval: string;
  readonly openTime: bigint | number;
  readonly closeTime: bigint | number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
  readonly quoteVolume: string;
  readonly trades: bigint | number;
  readonly takerBuyVolume: string;
  readonly takerBuyQuoteVolume: string;
  readonly firstTradeId: bigint | number;
  readonly lastTradeId: bigint | number;
  readonly closed: boolean;
  readonly version: bigint | number;
}

/**
 * A pull answer's klines as undecoded wire bytes (the gRPC client's `RawKlineList`
 * satisfies this): kline `i`'s `klagg.v1.Kline` body is
 * `chunks[chunk[i]][off[i], off[i] + len[i])`, its symbol and interval are the UTF-8
 * byte ranges `symOff/symLen`, `ivOff/ivLen` of the same chunk, `symRef` its symbol's ref. The gateway copies the
 * body into its snapshot, update and Kafka records as is, so the bytes must be a
 * canonical encoding (what protobuf-es `toBinary` writes; the worker's encoder is).
 */
export interface RawKlines {
  readonly count: number;
  readonly chunks: readonly Uint8Array[];
  readonly chunk: Int32Array;
  readonly off: Int32Array;
  readonly len: Int32Array;
  readonly symOff: Int32Array;
  readonly symLen: Int32Array;
  readonly ivOff: Int32Array;
  readonly ivLen: Int32Array;
  /**
   * Per kline, its symbol's index in the worker's symbol list (the PullChunk's `symbol_refs`),
   * or -1 when the worker sent none. A hint: the gateway checks it against the symbol bytes.
   */
  readonly symRef: Int32Array;
  readonly openTime: Float64Array;
  readonly version: Float64Array;
  readonly closed: Uint8Array;
}

/** What the gateway asks a worker for (see proto/klagg/v1/worker.proto). */
export interface PullRequestArgs {
  /** The worker epoch the gateway knows; 0 = unknown (asks for the full state). */
  readonly epoch: number;
  /** The highest version the gateway has durably applied for that epoch. */
  readonly ackVersion: number;
  /**
   * The highest version the gateway has applied (>= ackVersion; set when the ack lags, see durable-ack.ts):
   * the answer needs only newer klines. Not sent on the wire yet (PullRequest has no such field): workers
   * answer from ackVersion and the gateway drops what it already has.
   */
  readonly sinceVersion?: number;
}

/** One complete answer of a worker (every chunk arrived). */
export interface PullResult {
  readonly worker: string;
  readonly epoch: number;
  readonly version: number;
  readonly full: boolean;
  readonly sourceDone: boolean;
  /** The worker's symbols (on full answers). */
  readonly symbols: readonly string[];
  readonly klines: readonly WireKline[];
  /** When present, the answer's klines as raw bytes: the gateway uses these and never reads `klines`. */
  readonly raw?: RawKlines;
}

/**
 * Pulls one worker. Must reject (never hang) once `deadlineMs` has passed or
 * `signal` aborts; the gateway additionally races it against its own timer.
 */
export interface WorkerPuller {
  pull(req: PullRequestArgs, deadlineMs: number, signal?: AbortSignal): Promise<PullResult>;
  /**
   * Resolves once the connection is established, so the first pull does not spend its deadline on
   * connecting; rejects when it is not within `timeoutMs`. Optional (fakes have nothing to connect).
   */
  connect?(timeoutMs: number): Promise<void>;
  /** Releases the connection. */
  close?(): void | Promise<void>;
}

/** A hold on a snapshot's buffers; `release` exactly once when done with them. */
export interface SnapshotLease {
  release(): void;
  /**
   * Releases without returning the buffer to the pool: for holders that cannot
   * be sure nobody still reads it (e.g. a socket write that may be pending after a timeout).
   */
  abandon(): void;
}

/**
 * One tick's immutable snapshot, already encoded: `bytes` is a
 * `klagg.v1.Snapshot`, `updateBytes` the `klagg.v1.SnapshotUpdate` of the
 * same seq. The bytes are never written while anybody holds a lease: they are
 * valid during the `publish` call / tick listener that hands the snapshot
 * out, and as long as the receiver holds a `retain()`ed lease. Without a
 * lease, the next tick may patch them in place. (The gateway reuses snapshot
 * and update buffers: a fresh 15 MB buffer per tick costs more in page faults
 * and GC pressure than the whole tick is allowed to take.)
 */
export interface GatewaySnapshot {
  readonly aggregator: string;
  readonly gatewayEpoch: number;
  readonly seq: number;
  /** Gateway wall clock of the tick, ms. */
  readonly time: number;
  readonly bytes: Uint8Array;
  /** Valid like `bytes` (its buffer is pooled too): during the hand-out, and as long as a lease is held. */
  readonly updateBytes: Uint8Array;
  /** Klines carried by the update (changed slots plus superseded/late klines of the tick). */
  readonly changedCount: number;
  /** Klines in the full snapshot (slots that ever received a kline). */
  readonly klineCount: number;
  /** Keeps `bytes` valid (and unchanged) until the lease is released; throws once they are reused. */
  retain(): SnapshotLease;
  /** `retain`, or undefined when the bytes are already reused (a newer snapshot exists by then). */
  tryRetain(): SnapshotLease | undefined;
}

/** Where snapshots go (Redis, in-process bus). Must never block or throw into the tick. */
export interface SnapshotPublisher {
  /** Human-readable name for logs. */
  readonly name: string;
  /**
   * Hands over the tick's snapshot. Returns at once; a publisher that is
   * still busy keeps only the newest snapshot (readers detect the seq gap).
   * A publisher that uses the bytes after returning must `retain()` them.
   * `traceparent` is the tick span's W3C trace context (empty when untraced).
   */
  publish(snapshot: GatewaySnapshot, traceparent: string): void;
  /** Waits (bounded by `timeoutMs`) for the newest snapshot to be published, then releases resources. */
  stop(timeoutMs: number): Promise<void>;
}

/** One Kafka record as the gateway produces it. */
export interface KafkaRecord {
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

/** The Kafka producer port: resolves once every record is acknowledged by all in-sync replicas. */
export interface KafkaProducerPort {
  send(records: readonly KafkaRecord[]): Promise<void>;
  close(): Promise<void>;
}
