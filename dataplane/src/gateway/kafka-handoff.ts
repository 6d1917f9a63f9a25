/**
 * The bounded queue between the tick and Kafka. The tick only ever calls
 * `offer` (synchronous, cheap); a background sender drains the queue in
 * order, one `KlineBatch` record per symbol per tick, retrying failed sends.
 *
 * Overflow policy (limit = klines waiting):
 * - Open-kline updates coalesce: a newer state of the same slot replaces the
 *   queued one. Beyond the limit, queued open updates are dropped oldest
 *   first and counted (`klagg_gateway_kafka_dropped_open_total`).
 * - Closed klines are never dropped. The gateway asks `closedRoom()` before
 *   handing over a worker's result; when the closed klines would not fit, the
 *   result is not handed over and the worker is not acked, so the worker keeps
 *   them and sends them again (ERROR log + `..._kafka_closed_overflow_total`).
 */
import { trace, SpanKind, type Link } from "@opentelemetry/api";
import type { Logger } from "../obs/log.js";
import { endSpanAfter } from "../obs/spans.js";
import type { HandoffProgress } from "./durable-ack.js";
import type { StateLayout } from "./global-state.js";
import { KafkaRecordBuilder } from "./kafka-records.js";
import type { GatewayMetrics } from "./metrics.js";
import type { KafkaProducerPort, KafkaRecord } from "./ports.js";
import { ENTRY_CLOSED, ENTRY_EXTRA, type TickEntries } from "./tick-update.js";
import { contextOf, parseTraceparent } from "./trace-context.js";

/** Settings of the hand-off. */
export interface HandoffOptions {
  readonly aggregator: string;
  readonly limit: number;
  /** Stop adding ticks to one send once it holds this many klines. */
  readonly maxKlinesPerSend?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly now?: () => number;
}

interface QueuedTick {
  readonly seq: number;
  readonly traceparent: string;
  readonly entries: TickEntries;
  /** Evicted extras (coalescible open entries are tracked through `openOwner`). */
  readonly dead: Uint8Array;
}

const tracer = trace.getTracer("klagg-gateway");

/** Bounded, never-blocking hand-off from the tick to a Kafka producer. */
export class KafkaHandoff implements HandoffProgress {
  private readonly queue: QueuedTick[] = [];
  /** Seq of the queued tick holding each slot's live open update, 0 when none. */
  private readonly openOwner: Float64Array;
  private inFlight = 0;
  /** Seq of the newest offered tick (durable acks: see durable-ack.ts). */
  private offered = 0;
  private pendingClosed = 0;
  private pendingOpen = 0;
  private wake: (() => void) | undefined;
  /** Ends the backoff sleep after a failed send early (stop). */
  private wakeRetry: (() => void) | undefined;
  private stopDeadline: number | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly records: KafkaRecordBuilder;
  private readonly now: () => number;

  constructor(
    private readonly producer: KafkaProducerPort,
    private readonly layout: StateLayout,
    private readonly opts: HandoffOptions,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.openOwner = new Float64Array(layout.slotCount);
    this.records = new KafkaRecordBuilder(layout.symbols, layout.nIntervals, opts.aggregator);
    this.now = opts.now ?? Date.now;
  }

  /** Closed klines that still fit. */
  closedRoom(): number {
    return Math.max(0, this.opts.limit - this.pendingClosed);
  }

  /** Klines waiting (closed, open). */
  depth(): { closed: number; open: number } {
    return { closed: this.pendingClosed, open: this.pendingOpen };
  }

  /** Seq of the newest tick offered (see `HandoffProgress`). */
  offeredSeq(): number {
    return this.offered;
  }

  /** Every tick up to this seq is confirmed by Kafka or had nothing to send (ticks are sent in order). */
  confirmedSeq(): number {
    const head = this.queue[0];
    return head === undefined ? this.offered : head.seq - 1;
  }

  /**
   * Queues one tick's entries; never blocks. The caller checked `closedRoom()` for its closed klines. The
   * hand-off releases `entries` once their records are sent (or at once when there is nothing to send).
   */
  offer(seq: number, traceparent: string, entries: TickEntries): void {
    this.offered = seq;
    if (entries.count === 0) {
      entries.release();
      return;
    }
    const t: QueuedTick = { seq, traceparent, entries, dead: new Uint8Array(entries.count) };
    for (let i = 0; i < entries.count; i++) {
      const f = entries.flags[i]!;
      if ((f & ENTRY_CLOSED) !== 0) {
        this.pendingClosed++;
      } else if ((f & ENTRY_EXTRA) !== 0) {
        this.pendingOpen++;
      } else {
        const slot = entries.slot[i]!;
        if (this.openOwner[slot] !== 0) this.pendingOpen--; // the queued older state is superseded
        this.openOwner[slot] = seq;
        this.pendingOpen++;
      }
    }
    this.queue.push(t);
    this.evictOpen();
    this.reportDepth();
    this.wake?.();
  }

  /** Drops queued open updates, oldest first, until the queue is within its limit. */
  private evictOpen(): void {
    let excess = this.pendingClosed + this.pendingOpen - this.opts.limit;
    if (excess <= 0) return;
    let dropped = 0;
    for (let q = this.inFlight; q < this.queue.length && excess > 0; q++) {
      const t = this.queue[q]!;
      const e = t.entries;
      for (let i = 0; i < e.count && excess > 0; i++) {
        if (!this.isLiveOpen(t, i)) continue;
        if ((e.flags[i]! & ENTRY_EXTRA) !== 0) t.dead[i] = 1;
        else this.openOwner[e.slot[i]!] = 0;
        this.pendingOpen--;
        dropped++;
        excess--;
      }
    }
    if (dropped > 0) {
      this.metrics.kafkaDroppedOpen.inc(dropped);
      this.log.warn("kafka hand-off queue full: dropped open-kline updates", {
        dropped,
        limit: this.opts.limit,
        closed_waiting: this.pendingClosed,
      });
    }
  }

  private isLiveOpen(t: QueuedTick, i: number): boolean {
    const f = t.entries.flags[i]!;
    if ((f & ENTRY_CLOSED) !== 0) return false;
    if ((f & ENTRY_EXTRA) !== 0) return t.dead[i] === 0;
    return this.openOwner[t.entries.slot[i]!] === t.seq;
  }

  private isLive(t: QueuedTick, i: number): boolean {
    return (t.entries.flags[i]! & ENTRY_CLOSED) !== 0 || this.isLiveOpen(t, i);
  }

  private reportDepth(): void {
    this.metrics.kafkaQueueDepth.set({ kind: "closed" }, this.pendingClosed);
    this.metrics.kafkaQueueDepth.set({ kind: "open" }, this.pendingOpen);
  }

  /** Starts the background sender. */
  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    let backoff = this.opts.retryBaseMs ?? 100;
    while (true) {
      if (this.queue.length === 0) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const { records, ticks, klines } = this.takeRecords();
      try {
        await this.send(records, ticks);
        this.complete(ticks);
        this.metrics.kafkaSentKlines.inc(klines);
        backoff = this.opts.retryBaseMs ?? 100;
      } catch (err) {
        this.inFlight = 0;
        this.metrics.kafkaSendFailures.inc();
        this.log.error("kafka send failed; retrying", {
          err,
          records: records.length,
          closed_waiting: this.pendingClosed,
          retry_in_ms: backoff,
        });
        if (this.stopping && this.stopDeadline !== undefined && this.now() >= this.stopDeadline) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = undefined;
        if (this.stopping && this.stopDeadline !== undefined && this.now() >= this.stopDeadline) return;
        backoff = Math.min(backoff * 2, this.opts.retryMaxMs ?? 5000);
      }
    }
  }

  /** Builds one record per symbol per queued tick, for as many ticks as fit in one send. */
  private takeRecords(): { records: KafkaRecord[]; ticks: number; klines: number } {
    const max = this.opts.maxKlinesPerSend ?? 50_000;
    const records: KafkaRecord[] = [];
    let ticks = 0;
    let klines = 0;
    const producedAt = this.now();
    while (ticks < this.queue.length && (ticks === 0 || klines < max)) {
      const t = this.queue[ticks]!;
      const headers: Record<string, string> = t.traceparent === "" ? {} : { traceparent: t.traceparent };
      klines += this.records.add(records, t.entries, (i) => this.isLive(t, i), t.seq, producedAt, headers);
      ticks++;
    }
    this.inFlight = ticks;
    return { records, ticks, klines };
  }

  private async send(records: KafkaRecord[], ticks: number): Promise<void> {
    const links: Link[] = [];
    for (let q = 0; q < ticks; q++) {
      const sc = parseTraceparent(this.queue[q]!.traceparent);
      if (sc !== undefined) links.push({ context: sc });
    }
    // The span is a child of the newest tick it carries; the other ticks are links.
    const parent = contextOf(this.queue[ticks - 1]!.traceparent);
    const span = tracer.startSpan(
      "kafka.produce",
      {
        kind: SpanKind.PRODUCER,
        links,
        attributes: { "messaging.system": "kafka", "klagg.records": records.length },
      },
      parent,
    );
    await endSpanAfter(span, () => this.producer.send(records));
  }

  /** Removes the sent ticks and releases their queue slots. */
  private complete(ticks: number): void {
    for (let q = 0; q < ticks; q++) {
      const t = this.queue[q]!;
      const e = t.entries;
      // The records are sent: the tick's update bytes may be recycled.
      e.release();
      for (let i = 0; i < e.count; i++) {
        const f = e.flags[i]!;
        if ((f & ENTRY_CLOSED) !== 0) this.pendingClosed--;
        else if ((f & ENTRY_EXTRA) !== 0) {
          if (t.dead[i] === 0) this.pendingOpen--;
        } else if (this.openOwner[e.slot[i]!] === t.seq) {
          this.openOwner[e.slot[i]!] = 0;
          this.pendingOpen--;
        }
      }
    }
    this.queue.splice(0, ticks);
    this.inFlight = 0;
    this.reportDepth();
  }

  /**
   * Stops after flushing: waits up to `timeoutMs` for the queue to drain, then
   * gives up (ERROR with the number of closed klines left behind) and closes the producer.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.stopDeadline = this.now() + timeoutMs;
    this.wake?.();
    if (this.loop !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.wakeRetry?.();
          resolve();
        }, timeoutMs);
      });
      await Promise.race([this.loop, timeout]);
      clearTimeout(timer);
    }
    if (this.pendingClosed > 0) {
      this.log.error("gateway stopped with closed klines not delivered to Kafka", {
        closed_left: this.pendingClosed,
        open_left: this.pendingOpen,
      });
    }
    await this.producer
      .close()
      .catch((err: unknown) => this.log.warn("kafka producer close failed", { err }));
  }
}
