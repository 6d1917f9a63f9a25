/**
 * Detects what a trade file contains, from its content (and its symbol from
 * its name, for dump CSVs which carry no symbol column).
 */
import { basename } from "node:path";
import { toBool } from "./validate.js";

/**
 * A trade file format:
 * - `capture`: `<local_receive_time_ns> <json>` lines (our ws-captures);
 * - `jsonl`: one Binance WebSocket JSON message per line;
 * - `trades-csv`: Binance trades dump, `id,price,qty,quote_qty,time,is_buyer_maker[,is_best_match]`;
 * - `aggtrades-csv`: Binance aggTrades dump,
 *   `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker[,is_best_match]`.
 */
export type FileFormat = "capture" | "jsonl" | "trades-csv" | "aggtrades-csv";

/** How many leading non-empty lines detection looks at before giving up. */
export const DETECT_LINES = 16;

const CAPTURE = /^\d{1,20} \{/;
const INT = /^\d+$/;

/**
 * The format of one line, or undefined when the line tells nothing (garbage).
 * `header` is true when the line is a CSV header row.
 */
export function detectLine(line: string): { format: FileFormat; header: boolean } | undefined {
  const s = line.trim();
  if (s === "") return undefined;
  if (CAPTURE.test(s)) return { format: "capture", header: false };
  if (s.startsWith("{")) return { format: "jsonl", header: false };
  const cols = s.split(",");
  if (cols.length < 6 || cols.length > 8) return undefined;
  const first = cols[0] ?? "";
  if (!INT.test(first)) {
    // A header row: tell the two dumps apart by their column names.
    const names = cols.map((c) => c.trim().toLowerCase());
    if (names.includes("first_trade_id")) return { format: "aggtrades-csv", header: true };
    if (names.includes("quote_qty")) return { format: "trades-csv", header: true };
    return undefined;
  }
  // Headerless: trades have the maker flag in column 6, aggTrades a time there and the flag in column 7.
  if (toBool(cols[5]) !== undefined && cols.length <= 7) return { format: "trades-csv", header: false };
  if (INT.test(cols[5] ?? "") && toBool(cols[6]) !== undefined && cols.length >= 7) {
    return { format: "aggtrades-csv", header: false };
  }
  return undefined;
}

/** The format given a file's first lines: the first line that tells anything decides. */
export function detectFormat(lines: readonly string[]): FileFormat | undefined {
  let seen = 0;
  for (const l of lines) {
    if (l.trim() === "") continue;
    const d = detectLine(l);
    if (d) return d.format;
    if (++seen >= DETECT_LINES) break;
  }
  return undefined;
}

/** True for the CSV formats, which need the symbol from the file name. */
export function needsSymbol(f: FileFormat): boolean {
  return f === "trades-csv" || f === "aggtrades-csv";
}

const DUMP_NAME = /(?:^|-)([A-Z0-9][A-Z0-9_]*)-(?:trades|aggTrades)-\d{4}-\d{2}/;

/**
 * The symbol of a Binance dump file from its name, e.g. `BTCUSDT-aggTrades-2024-08-08.csv`,
 * `spot-BTCUSDT-aggTrades-...` or `cm-BTCUSD_PERP-aggTrades-...` (a lower-case
 * market prefix is allowed); undefined when the name does not follow that pattern.
 */
export function symbolFromFileName(path: string): string | undefined {
  return DUMP_NAME.exec(basename(path))?.[1];
}

/** True when a buffer starts with the gzip magic bytes 1f 8b. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}
