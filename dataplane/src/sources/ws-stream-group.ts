/**
 * The connection lifecycle of one group of streams (one combined-stream URL):
 * reconnect with exponential backoff and jitter, and planned make-before-break
 * rotation before Binance's 24 h connection limit: open the new connection,
 * buffer what it receives while the old one keeps delivering for `overlapMs`,
 * then close the old one and replay the buffer (the caller's sequence tracker
 * drops the duplicates of the overlap).
 */
import type { Logger } from "../obs/log.js";
import { WsConnection, type ConnectionEvents, type ConnectionTimings } from "./ws-connection.js";

/** Reconnect and rotation policy. */
export interface GroupPolicy extends ConnectionTimings {
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Age at which a connection is replaced (before the exchange cuts it); jittered down by up to 5%. */
  readonly maxConnectionAgeMs: number;
  /** How long old and new connections overlap during a rotation. */
  readonly overlapMs: number;
  /** Most messages buffered from the new connection during an overlap before switching early. */
  readonly maxOverlapBuffer: number;
}

/** What a group needs from its source. */
export interface GroupContext {
  readonly policy: GroupPolicy;
  readonly log: Logger;
  readonly random: () => number;
  /** Processes one message of the live connection. */
  deliver(text: string): void;
  /** Allocates connection ids (unique per source, for logs). */
  nextConnectionId(): number;
  readonly counters: GroupCounters;
}

/** Counters the groups update. */
export interface GroupCounters {
  connectionsOpened: number;
  reconnects: number;
  rotations: number;
  livenessTimeouts: number;
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter". */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number,
): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return cap / 2 + random() * (cap / 2);
}

/** One combined-stream URL and its connection(s). */
export class StreamGroup implements ConnectionEvents {
  private active: WsConnection | undefined;
  private pending: WsConnection | undefined;
  private readonly live = new Set<WsConnection>();
  private buffer: string[] = [];
  private attempt = 0;
  private gotMessage = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  private overlapTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private onDrained: (() => void) | undefined;
  private readonly log: Logger;

  constructor(
    readonly url: string,
    readonly streams: number,
    private readonly ctx: GroupContext,
  ) {
    this.log = ctx.log;
  }

  start(): void {
    if (this.stopped) return;
    this.active = this.open();
  }

  /** Closes every connection; resolves once all have closed. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.rotateTimer);
    clearTimeout(this.overlapTimer);
    for (const c of this.live) c.close("stopped");
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.onDrained = resolve));
  }

  onOpen(c: WsConnection): void {
    this.ctx.counters.connectionsOpened++;
    if (c === this.active) {
      this.log.info("websocket connected", { conn: c.id, streams: this.streams });
      this.scheduleRotation();
    } else if (c === this.pending) {
      this.log.info("rotation: new connection open, overlapping", {
        conn: c.id,
        overlap_ms: this.ctx.policy.overlapMs,
      });
      this.overlapTimer = setTimeout(() => this.switchOver(), this.ctx.policy.overlapMs);
    }
  }

  onMessage(c: WsConnection, text: string): void {
    if (c === this.active) {
      if (!this.gotMessage) {
        // Only a connection that actually delivers resets the backoff, so a server that
        // accepts and drops at once cannot make us reconnect in a tight loop.
        this.gotMessage = true;
        this.attempt = 0;
      }
      this.ctx.deliver(text);
    } else if (c === this.pending) {
      this.buffer.push(text);
      if (this.buffer.length >= this.ctx.policy.maxOverlapBuffer) this.switchOver();
    }
    // Anything else comes from a connection being retired: the new one carries the same data.
  }

  onClose(c: WsConnection, code: number, why: string): void {
    this.live.delete(c);
    if (why.startsWith("liveness")) this.ctx.counters.livenessTimeouts++;
    if (this.stopped) {
      if (this.live.size === 0) this.onDrained?.();
      return;
    }
    if (c === this.active) {
      this.active = undefined;
      clearTimeout(this.rotateTimer);
      if (this.pending) {
        // The old connection died during a rotation: the new one takes over now.
        this.log.warn("connection closed during rotation; switching to the new one", {
          conn: c.id,
          code,
          why,
        });
        if (this.pending.opened) this.switchOver();
        else {
          this.active = this.pending;
          this.pending = undefined;
          this.buffer = [];
          clearTimeout(this.overlapTimer);
        }
        return;
      }
      this.ctx.counters.reconnects++;
      const delay = backoffDelay(
        this.attempt++,
        this.ctx.policy.backoffInitialMs,
        this.ctx.policy.backoffMaxMs,
        this.ctx.random,
      );
      this.log.warn("websocket closed; reconnecting", {
        conn: c.id,
        code,
        why,
        delay_ms: Math.round(delay),
        attempt: this.attempt,
      });
      this.reconnectTimer = setTimeout(() => this.start(), delay);
    } else if (c === this.pending) {
      this.pending = undefined;
      this.buffer = [];
      clearTimeout(this.overlapTimer);
      const delay = backoffDelay(
        this.attempt++,
        this.ctx.policy.backoffInitialMs,
        this.ctx.policy.backoffMaxMs,
        this.ctx.random,
      );
      this.log.warn("rotation: new connection failed; retrying", {
        conn: c.id,
        code,
        why,
        delay_ms: Math.round(delay),
      });
      this.rotateTimer = setTimeout(() => this.rotate(), delay);
    }
  }

  private open(): WsConnection {
    this.gotMessage = false;
    // Liveness runs on the monotonic clock, not the injected one (which may be virtual in tests).
    const c = new WsConnection(this.ctx.nextConnectionId(), this.url, this.ctx.policy, this);
    this.live.add(c);
    return c;
  }

  private scheduleRotation(): void {
    clearTimeout(this.rotateTimer);
    const age = this.ctx.policy.maxConnectionAgeMs * (1 - 0.05 * this.ctx.random());
    this.rotateTimer = setTimeout(() => this.rotate(), age);
  }

  private rotate(): void {
    if (this.stopped || this.pending || !this.active) return;
    this.ctx.counters.rotations++;
    this.log.info("rotation: opening a new connection before the old one ages out", { old: this.active.id });
    this.pending = this.open();
  }

  private switchOver(): void {
    clearTimeout(this.overlapTimer);
    const next = this.pending;
    if (!next) return;
    const old = this.active;
    this.active = next;
    this.pending = undefined;
    this.gotMessage = true;
    old?.close("rotated");
    const buffered = this.buffer;
    this.buffer = [];
    for (const text of buffered) this.ctx.deliver(text);
    this.log.info("rotation complete", { old: old?.id, conn: next.id, buffered: buffered.length });
    this.scheduleRotation();
  }
}
