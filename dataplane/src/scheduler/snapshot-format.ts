/**
 * Renders snapshot klines for people and tools: `klagg snapshot` (table, CSV,
 * JSON) and the live table of `klagg local` / `make demo`. Pure.
 *
 * CSV: two leading columns `symbol,interval`, then Binance's 12 kline columns
 * in Binance's order (open_time, open, high, low, close, volume, close_time,
 * quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore),
 * formatted by `formatKlineCsvRow` for the chosen market; then a trailing
 * `closed` column (true/false), since a snapshot holds in-progress klines too.
 */
import { formatKlineCsvRow, KLINE_CSV_HEADER, type Market } from "../core/kline-csv.js";
import type { KlineRecord } from "../core/types.js";
import type { Kline } from "../gen/klagg/v1/kline_pb.js";
import type { Snapshot } from "../gen/klagg/v1/snapshot_pb.js";
import { fromProtoKline } from "../grpc/kline-proto.js";

/** Which klines of a snapshot to show. */
export interface KlineFilter {
  readonly symbol?: string;
  readonly interval?: string;
}

/** The klines of `s` matching `f` (symbol compared case-insensitively). */
export function selectKlines(s: Snapshot, f: KlineFilter): Kline[] {
  const sym = f.symbol?.toUpperCase();
  return s.klines.filter(
    (k) => (sym === undefined || k.symbol === sym) && (f.interval === undefined || k.interval === f.interval),
  );
}

/** Converts wire klines to records, skipping (and reporting) ones with an unknown interval. */
export function toRecords(klines: readonly Kline[], onBad?: (k: Kline, err: Error) => void): KlineRecord[] {
  const out: KlineRecord[] = [];
  for (const k of klines) {
    try {
      out.push(fromProtoKline(k));
    } catch (err) {
      onBad?.(k, err as Error);
    }
  }
  return out;
}

/** The CSV header line (see the module comment). */
export const SNAPSHOT_CSV_HEADER = `symbol,interval,${KLINE_CSV_HEADER},closed`;

/** CSV text with header, one line per kline, trailing newline. */
export function formatCsv(records: readonly KlineRecord[], market: Market): string {
  const lines = [SNAPSHOT_CSV_HEADER];
  for (const r of records)
    lines.push(`${r.symbol},${r.interval},${formatKlineCsvRow(r, market)},${r.closed}`);
  return lines.join("\n") + "\n";
}

/** JSON text: the snapshot header plus the klines as records (times, counts, versions as numbers). */
export function formatJson(s: Snapshot, records: readonly KlineRecord[]): string {
  return (
    JSON.stringify(
      {
        aggregator: s.aggregator,
        seq: Number(s.seq),
        time: Number(s.time),
        gatewayEpoch: Number(s.gatewayEpoch),
        klines: records,
      },
      null,
      2,
    ) + "\n"
  );
}

/** `2024-08-08 23:55:00` (UTC) for a ms timestamp. */
export function formatUtc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "");
}

/** A text table with aligned columns; numbers right-aligned. */
export function formatTable(records: readonly KlineRecord[]): string {
  const header = [
    "SYMBOL",
    "INT",
    "OPEN TIME (UTC)",
    "OPEN",
    "HIGH",
    "LOW",
    "CLOSE",
    "VOLUME",
    "TRADES",
    "STATE",
  ];
  const rows = records.map((r) => [
    r.symbol,
    r.interval,
    formatUtc(r.openTime),
    r.open,
    r.high,
    r.low,
    r.close,
    r.volume,
    String(r.trades),
    r.closed ? "closed" : "open",
  ]);
  return alignColumns(header, rows, new Set([3, 4, 5, 6, 7, 8]));
}

/** Aligns `rows` under `header`; columns in `right` are right-aligned. */
export function alignColumns(
  header: readonly string[],
  rows: readonly string[][],
  right: ReadonlySet<number>,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/**
 * Compares two non-negative plain decimal strings exactly ("10.5" > "9.75"),
 * without floats. Malformed text compares as zero.
 */
export function compareDecimals(a: string, b: string): number {
  const norm = (s: string): [string, string] => {
    if (!/^\d+(\.\d*)?$/.test(s)) return ["0", ""];
    const [i = "0", f = ""] = s.split(".");
    return [i.replace(/^0+(?=\d)/, ""), f.replace(/0+$/, "")];
  };
  const [ai, af] = norm(a);
  const [bi, bf] = norm(b);
  if (ai.length !== bi.length) return ai.length - bi.length;
  if (ai !== bi) return ai < bi ? -1 : 1;
  const n = Math.max(af.length, bf.length);
  const pa = af.padEnd(n, "0");
  const pb = bf.padEnd(n, "0");
  return pa === pb ? 0 : pa < pb ? -1 : 1;
}

/** The newest kline per symbol for `interval`, top `n` by quote volume (descending), ties by symbol. */
export function topByQuoteVolume(s: Snapshot, interval: string, n: number): KlineRecord[] {
  const newest = new Map<string, Kline>();
  for (const k of s.klines) {
    if (k.interval !== interval) continue;
    const cur = newest.get(k.symbol);
    if (cur === undefined || cur.openTime < k.openTime) newest.set(k.symbol, k);
  }
  return toRecords([...newest.values()])
    .sort((a, b) => compareDecimals(b.quoteVolume, a.quoteVolume) || (a.symbol < b.symbol ? -1 : 1))
    .slice(0, n);
}
