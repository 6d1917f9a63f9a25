/**
 * A local WebSocket server (127.0.0.1, random port) that replays ws-capture
 * files (`<ns> <json>` lines, gzip) to clients, every message type included,
 * like a Binance combined-stream endpoint. Test scenarios per connection:
 * drop the connection after N messages, stall (stop sending and stop
 * answering pings), and resume later (gap), at (no gap) or earlier
 * (duplicates) than where the previous connection left off.
 */
import { createReadStream } from "node:fs";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { WebSocketServer, type WebSocket } from "ws";

/** What the server does on the n-th connection (0-based). */
export interface ConnectionPlan {
  /** Terminates the connection (no close frame) after sending this many messages. */
  readonly dropAfter?: number;
  /** Terminates the connection once a later connection has sent this many messages (dies mid-rotation). */
  readonly dropWhenNewerSent?: number;
  /** Stops sending and answering pings after this many messages. */
  readonly stallAfter?: number;
  /** Starts this many messages after the furthest point sent so far (a gap). */
  readonly skip?: number;
  /** Starts this many messages before the furthest point sent so far (duplicates). */
  readonly rewind?: number;
}

/** Server settings. */
export interface ReplayServerOptions {
  /** Messages to replay, e.g. from `loadCapture`. */
  readonly messages: readonly string[];
  readonly plan?: (connection: number) => ConnectionPlan;
  /** Messages per batch; a batch is sent every `intervalMs` (0 = as fast as backpressure allows). */
  readonly batch?: number;
  readonly intervalMs?: number;
  /** Sends only messages of the streams named in the connection URL (`?streams=a/b`), like Binance. */
  readonly filterByStreams?: boolean;
}

/** Reads a capture file's JSON messages (the `<ns> ` prefix stripped); REST snapshot lines are skipped. */
export async function loadCapture(path: string, limit = Infinity): Promise<string[]> {
  const out: string[] = [];
  const rl = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of rl) {
    const json = line.slice(line.indexOf(" ") + 1);
    if (!json.startsWith('{"stream"')) continue;
    out.push(json);
    if (out.length >= limit) break;
  }
  rl.close();
  return out;
}

/** One accepted connection, for assertions. */
export interface ServedConnection {
  readonly url: string;
  readonly start: number;
  sent: number;
  pingsReceived: number;
}

export class WsReplayServer {
  readonly connections: ServedConnection[] = [];
  /** Furthest message index sent over all connections. */
  private furthest = 0;
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly opts: ReplayServerOptions,
  ) {
    wss.on("connection", (ws, req) => this.serve(ws, req.url ?? ""));
  }

  static async start(opts: ReplayServerOptions): Promise<WsReplayServer> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, autoPong: false });
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
    return new WsReplayServer(wss, opts);
  }

  /** Base URL to give the client, e.g. `ws://127.0.0.1:40123`. */
  get baseUrl(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private serve(ws: WebSocket, url: string): void {
    this.sockets.add(ws);
    const n = this.connections.length;
    const plan = this.opts.plan?.(n) ?? {};
    const start = Math.max(0, this.furthest + (plan.skip ?? 0) - (plan.rewind ?? 0));
    const conn: ServedConnection = { url, start, sent: 0, pingsReceived: 0 };
    this.connections.push(conn);
    let stalled = false;
    let open = true;
    ws.on("ping", (data) => {
      conn.pingsReceived++;
      if (!stalled) ws.pong(data);
    });
    ws.on("close", () => {
      open = false;
      this.sockets.delete(ws);
    });
    const batch = this.opts.batch ?? 256;
    const interval = this.opts.intervalMs ?? 0;
    const wanted = this.opts.filterByStreams ? streamsOf(url) : undefined;
    let i = start;
    const step = (): void => {
      if (!open) return;
      if (ws.bufferedAmount > 1 << 20) {
        setTimeout(step, 1);
        return;
      }
      const end = Math.min(this.opts.messages.length, i + batch);
      for (; i < end; i++) {
        const newer = this.connections[n + 1];
        const dropNow =
          plan.dropWhenNewerSent !== undefined && newer !== undefined && newer.sent >= plan.dropWhenNewerSent;
        if (dropNow || (plan.dropAfter !== undefined && conn.sent >= plan.dropAfter)) {
          ws.terminate();
          return;
        }
        if (plan.stallAfter !== undefined && conn.sent >= plan.stallAfter) {
          stalled = true;
          return;
        }
        const msg = this.opts.messages[i] as string;
        if (wanted && !wanted.has(streamOf(msg))) continue;
        ws.send(msg);
        conn.sent++;
        this.furthest = Math.max(this.furthest, i + 1);
      }
      if (i < this.opts.messages.length) setTimeout(step, interval);
    };
    setImmediate(step);
  }
}

function streamsOf(url: string): Set<string> {
  const q = new URL(url, "ws://x").searchParams.get("streams") ?? "";
  return new Set(q.split("/").filter((s) => s !== ""));
}

function streamOf(msg: string): string {
  return /^\{"stream":"([^"]*)"/.exec(msg)?.[1] ?? "";
}

/** Polls `cond` every 5 ms until it holds; rejects after `timeoutMs` with `what` in the message. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
