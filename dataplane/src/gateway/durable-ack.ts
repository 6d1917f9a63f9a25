/**
 * Durable acks: a worker is acked only up to the highest version whose
 * klines Kafka has confirmed (acks from all in-sync replicas). A worker keeps
 * its closed klines until they are acked, so a gateway that dies (SIGKILL,
 * OOM, node loss) with klines still in its in-memory Kafka queue loses
 * nothing: the next gateway asks without an epoch and the worker's full
 * answer carries every closed kline it still holds.
 *
 * The gateway core acks what it has applied and handed to the queue (the
 * "handed" version). `DurableAckPuller` wraps a worker's puller: it sends the
 * durable watermark instead, and drops from each answer the klines the gateway
 * already has (version <= handed). So the lagging ack never makes the tick wait
 * (nothing here waits for Kafka) and never sends a kline to Kafka twice; the
 * worker only re-sends klines it changed since the watermark, which the gateway
 * filters out before applying. (The request also says how far the gateway has
 * applied, `sinceVersion`, for a worker that can answer from there: see ports.ts.)
 *
 * Watermark: when the gateway pulls with handed = V, V was handed off in a tick
 * whose seq is at most the queue's newest offered seq S (the tick that applied
 * V offered its klines before the pull). The queue sends ticks in order, so once
 * every tick up to S is confirmed, V is durable.
 */
import type { PullRequestArgs, PullResult, RawKlines, WorkerPuller } from "./ports.js";

/** How far the Kafka hand-off has got (implemented by `KafkaHandoff`). */
export interface HandoffProgress {
  /** Seq of the newest tick offered to the queue (0 before the first). */
  offeredSeq(): number;
  /** Every tick with a seq up to this one is confirmed by Kafka (or had nothing to send). */
  confirmedSeq(): number;
}

/** One worker's durable watermark within its current epoch. */
export class DurableWatermark {
  private epochValue = 0;
  private durable = 0;
  /** Pending (version, seq) pairs in ascending order, from `head` on: version V is durable once seq is confirmed. */
  private versions: number[] = [];
  private seqs: number[] = [];
  private head = 0;

  /** The epoch the watermark belongs to (0 = none yet). */
  get epoch(): number {
    return this.epochValue;
  }

  /** The highest version of `epoch` known to be in Kafka. */
  get version(): number {
    return this.durable;
  }

  /** Handed-off versions still waiting for Kafka's confirmation. */
  get pending(): number {
    return this.versions.length - this.head;
  }

  /**
   * Records that `handed` (of `epoch`) was handed off in a tick whose seq is at most
   * `offeredSeq`, takes in what `confirmedSeq` confirms, and returns the version that may be
   * acked: the durable watermark, never more than `handed`. A new epoch starts from 0.
   */
  ack(epoch: number, handed: number, offeredSeq: number, confirmedSeq: number): number {
    if (epoch !== this.epochValue) this.reset(epoch);
    if (epoch === 0) return 0;
    const n = this.versions.length;
    const last = n > this.head ? this.versions[n - 1]! : this.durable;
    if (handed > last) {
      // One pair per tick: a later pull of the same tick only raises its version.
      if (n > this.head && this.seqs[n - 1] === offeredSeq) this.versions[n - 1] = handed;
      else {
        this.versions.push(handed);
        this.seqs.push(offeredSeq);
      }
    }
    while (this.head < this.versions.length && this.seqs[this.head]! <= confirmedSeq) {
      this.durable = this.versions[this.head++]!;
    }
    if (this.head === this.versions.length) {
      this.versions.length = 0;
      this.seqs.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.versions.length) {
      this.versions = this.versions.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    return Math.min(this.durable, handed);
  }

  private reset(epoch: number): void {
    this.epochValue = epoch;
    this.durable = 0;
    this.versions = [];
    this.seqs = [];
    this.head = 0;
  }
}

/** A worker puller that acks the durable watermark and hides klines the gateway already has. */
export class DurableAckPuller implements WorkerPuller {
  readonly watermark = new DurableWatermark();

  constructor(
    private readonly inner: WorkerPuller,
    private readonly progress: HandoffProgress,
  ) {}

  /** Passes the inner puller's connect through, so connecting before the first tick still happens. */
  connect(timeoutMs: number): Promise<void> {
    return this.inner.connect?.(timeoutMs) ?? Promise.resolve();
  }

  async pull(req: PullRequestArgs, deadlineMs: number, signal?: AbortSignal): Promise<PullResult> {
    const p = this.progress;
    const ack = this.watermark.ack(req.epoch, req.ackVersion, p.offeredSeq(), p.confirmedSeq());
    const sent =
      ack === req.ackVersion ? req : { epoch: req.epoch, ackVersion: ack, sinceVersion: req.ackVersion };
    const r = await this.inner.pull(sent, deadlineMs, signal);
    // A full answer (first contact, worker restart, forced resync) is taken whole.
    if (r.full || r.epoch !== req.epoch || ack >= req.ackVersion) return r;
    return newerThan(r, req.ackVersion);
  }

  close(): void | Promise<void> {
    return this.inner.close?.();
  }
}

/** The answer without its klines of version <= `handed` (the answer itself when it has none). */
export function newerThan(r: PullResult, handed: number): PullResult {
  const raw = r.raw;
  if (raw === undefined) {
    if (r.klines.every((k) => Number(k.version) > handed)) return r;
    return { ...r, klines: r.klines.filter((k) => Number(k.version) > handed) };
  }
  let keep = 0;
  for (let i = 0; i < raw.count; i++) if (raw.version[i]! > handed) keep++;
  if (keep === raw.count) return r;
  return { ...r, raw: compactRaw(raw, keep, handed) };
}

/** The `keep` klines of `raw` with version > `handed`, in order, pointing into the same chunks. */
function compactRaw(raw: RawKlines, keep: number, handed: number): RawKlines {
  const out = {
    count: keep,
    chunks: raw.chunks,
    chunk: new Int32Array(keep),
    off: new Int32Array(keep),
    len: new Int32Array(keep),
    symOff: new Int32Array(keep),
    symLen: new Int32Array(keep),
    ivOff: new Int32Array(keep),
    ivLen: new Int32Array(keep),
    symRef: new Int32Array(keep),
    openTime: new Float64Array(keep),
    version: new Float64Array(keep),
    closed: new Uint8Array(keep),
  } satisfies RawKlines;
  let j = 0;
  for (let i = 0; i < raw.count; i++) {
    if (raw.version[i]! <= handed) continue;
    out.chunk[j] = raw.chunk[i]!;
    out.off[j] = raw.off[i]!;
    out.len[j] = raw.len[i]!;
    out.symOff[j] = raw.symOff[i]!;
    out.symLen[j] = raw.symLen[i]!;
    out.ivOff[j] = raw.ivOff[i]!;
    out.ivLen[j] = raw.ivLen[i]!;
    out.symRef[j] = raw.symRef[i]!;
    out.openTime[j] = raw.openTime[i]!;
    out.version[j] = raw.version[i]!;
    out.closed[j] = raw.closed[i]!;
    j++;
  }
  return out;
}
