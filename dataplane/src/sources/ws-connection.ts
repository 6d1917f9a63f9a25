/**
 * One WebSocket connection with liveness: any frame (message, ping, pong)
 * counts as activity; the client pings every `pingIntervalMs` (servers answer
 * with a pong, and the `ws` library answers the server's pings for us); when
 * nothing arrives for `livenessTimeoutMs` the connection is terminated so its
 * owner reconnects. A half-open TCP connection otherwise looks alive forever.
 */
import WebSocket from "ws";

/** Timings of one connection. */
export interface ConnectionTimings {
  readonly livenessTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly handshakeTimeoutMs: number;
  /** Largest accepted message; bigger ones make `ws` close the connection (memory bound). */
  readonly maxPayloadBytes: number;
}

/** Callbacks of a connection; `onClose` fires exactly once, also when the connection never opened. */
export interface ConnectionEvents {
  onOpen(c: WsConnection): void;
  onMessage(c: WsConnection, text: string): void;
  onClose(c: WsConnection, code: number, why: string): void;
}

/** How long a graceful close may take before the socket is terminated. */
const CLOSE_GRACE_MS = 1000;

/** A WebSocket plus its liveness timer. */
export class WsConnection {
  opened = false;
  /** Set when we close on purpose (rotation, stop, liveness), so the owner knows why. */
  closing: string | undefined;
  readonly openedAt: { ms: number } = { ms: 0 };
  private readonly ws: WebSocket;
  private lastActivity: number;
  private lastPing: number;
  private timer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly id: number,
    readonly url: string,
    private readonly t: ConnectionTimings,
    private readonly events: ConnectionEvents,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastActivity = this.lastPing = now();
    this.ws = new WebSocket(url, { handshakeTimeout: t.handshakeTimeoutMs, maxPayload: t.maxPayloadBytes });
    this.ws.on("open", () => {
      this.opened = true;
      this.openedAt.ms = this.now();
      this.touch();
      this.startTimer();
      this.events.onOpen(this);
    });
    this.ws.on("message", (data) => {
      this.touch();
      if (this.closed) return;
      this.events.onMessage(this, rawToString(data));
    });
    this.ws.on("ping", () => this.touch());
    this.ws.on("pong", () => this.touch());
    // 'error' is always followed by 'close'; the owner logs the close with its reason.
    this.ws.on("error", (e) => {
      this.closing ??= `error: ${e.message}`;
    });
    this.ws.on("close", (code, reason) => this.finish(code, reason.toString() || this.closing || ""));
  }

  /** Closes gracefully, terminating if the peer does not complete the close handshake in time. */
  close(why: string): void {
    if (this.closed) return;
    this.closing ??= why;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
      return;
    }
    this.ws.close(1000, why.slice(0, 100));
    this.graceTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  /** Drops the connection at once (no close handshake). */
  terminate(why: string): void {
    if (this.closed) return;
    this.closing ??= why;
    this.ws.terminate();
  }

  private touch(): void {
    this.lastActivity = this.now();
  }

  private startTimer(): void {
    const every = Math.max(10, Math.min(this.t.pingIntervalMs, this.t.livenessTimeoutMs / 4));
    this.timer = setInterval(() => this.check(), every);
  }

  private check(): void {
    const t = this.now();
    if (t - this.lastActivity > this.t.livenessTimeoutMs) {
      this.terminate(`liveness: nothing received for ${t - this.lastActivity} ms`);
      return;
    }
    if (t - this.lastPing >= this.t.pingIntervalMs && this.ws.readyState === WebSocket.OPEN) {
      this.lastPing = t;
      this.ws.ping();
    }
  }

  private finish(code: number, why: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.graceTimer);
    this.events.onClose(this, code, why);
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
