/**
 * The live kline view of `klagg local` / `make demo`: the top symbols by quote
 * volume for one interval, fed by the read scheduler and redrawn about every
 * 500 ms. On a TTY it redraws a table in place; otherwise it prints one line
 * per refresh (logs, CI).
 */
import type { Snapshot } from "../gen/klagg/v1/snapshot_pb.js";
import type { KlineRecord } from "../core/types.js";
import { alignColumns, compareDecimals, formatUtc, topByQuoteVolume } from "../scheduler/snapshot-format.js";

/** Where the view writes. */
export interface ViewOutput {
  write(text: string): void;
}

/** Static facts shown in the table's title. */
export interface ViewInfo {
  readonly title: string;
  readonly interval: string;
  readonly top: number;
  readonly mode: "table" | "lines";
  /** Extra status line (workers, Kafka), computed at render time. */
  readonly status?: () => string;
}

/** Cuts a plain decimal string to `d` decimals for display (no rounding, no floats). */
export function cutDecimals(v: string, d: number): string {
  const dot = v.indexOf(".");
  if (dot < 0) return d > 0 ? `${v}.${"0".repeat(d)}` : v;
  const frac = v.slice(dot + 1, dot + 1 + d).padEnd(d, "0");
  return d > 0 ? `${v.slice(0, dot)}.${frac}` : v.slice(0, dot);
}

function direction(k: KlineRecord): string {
  const c = compareDecimals(k.close, k.open);
  return c > 0 ? "▲" : c < 0 ? "▼" : "=";
}

/** Renders the table view of `s` (pure; exported for tests). */
export function renderTable(s: Snapshot, info: ViewInfo): string {
  const rows = topByQuoteVolume(s, info.interval, info.top).map((k) => [
    k.symbol,
    formatUtc(k.openTime).slice(11),
    k.open,
    k.high,
    k.low,
    k.close,
    direction(k),
    k.volume,
    cutDecimals(k.quoteVolume, 2),
    String(k.trades),
    k.closed ? "closed" : "open",
  ]);
  const head = `${info.title}   seq ${s.seq}   ${formatUtc(Number(s.time))} UTC   ${info.interval} klines, top ${info.top} by quote volume`;
  const table = alignColumns(
    ["SYMBOL", "OPEN", "O", "H", "L", "C", "", "VOLUME", "QUOTE VOL", "TRADES", "STATE"],
    rows,
    new Set([2, 3, 4, 5, 7, 8, 9]),
  );
  const status = info.status?.() ?? "";
  return `${head}\n\n${rows.length === 0 ? "(no klines yet)\n" : table}${status ? `\n${status}\n` : ""}`;
}

/** Renders the one-line view of `s`. */
export function renderLine(s: Snapshot, info: ViewInfo): string {
  const parts = topByQuoteVolume(s, info.interval, info.top).map((k) => `${k.symbol}=${k.close}`);
  return `${formatUtc(Number(s.time))} seq=${s.seq} ${info.interval}: ${parts.join(" ") || "(no klines yet)"}\n`;
}

const CLEAR = "\x1b[H\x1b[2J";
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

/** Keeps the newest snapshot (a scheduler handler) and redraws on a timer. */
export class LiveView {
  private latest: Snapshot | undefined;
  private drawn: Snapshot | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: ViewOutput,
    private readonly info: ViewInfo,
    private readonly refreshMs = 500,
  ) {}

  /** The scheduler handler: cheap, just keeps the newest snapshot. */
  readonly handler = (s: Snapshot): void => {
    this.latest = s;
  };

  start(): void {
    if (this.info.mode === "table") this.out.write(HIDE_CURSOR);
    this.timer = setInterval(() => this.draw(), this.refreshMs);
  }

  /** Draws once more (the final state) and restores the terminal. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    if (this.info.mode === "table") this.out.write(SHOW_CURSOR);
  }

  private draw(): void {
    const s = this.latest;
    if (s === undefined || s === this.drawn) return;
    this.drawn = s;
    if (this.info.mode === "table") this.out.write(CLEAR + renderTable(s, this.info));
    else this.out.write(renderLine(s, this.info));
  }
}
