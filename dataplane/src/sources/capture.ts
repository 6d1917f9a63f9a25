/**
 * Parses one line of any supported trade file, given the detected format:
 * capture lines (`<local_receive_time_ns> <json>`), JSON lines, or dump CSV rows.
 */
import { parseBinanceMessage, type MessageResult } from "./binance-message.js";
import { parseAggTradesRow, parseTradesRow } from "./csv-dump.js";
import type { FileFormat } from "./detect.js";
import type { TimeBounds } from "./validate.js";

/** What one line turned out to be (same shape as a WebSocket message). */
export type LineResult = MessageResult;

const CAPTURE_PREFIX = /^\d{1,20} /;

/** A line parser bound to one file: its format, its symbol (CSV) and time bounds. */
export type LineParser = (line: string) => LineResult;

/** Builds the parser of a file's lines; `symbol` is required for the CSV formats. */
export function lineParser(format: FileFormat, symbol: string | undefined, bounds: TimeBounds): LineParser {
  switch (format) {
    case "capture":
      return (line) => parseCaptureLine(line, bounds);
    case "jsonl":
      return (line) => parseBinanceMessage(line, bounds);
    case "trades-csv":
      return (line) => parseTradesRow(line, requireSymbol(symbol), bounds);
    case "aggtrades-csv":
      return (line) => parseAggTradesRow(line, requireSymbol(symbol), bounds);
  }
}

/** Parses `<local_receive_time_ns> <json>`; the receive time is not used (bucket by trade time). */
export function parseCaptureLine(line: string, bounds: TimeBounds): LineResult {
  const m = CAPTURE_PREFIX.exec(line);
  if (!m) return { kind: "reject", reason: "malformed_line", detail: `no receive-time prefix: ${line}` };
  return parseBinanceMessage(line.slice(m[0].length), bounds);
}

function requireSymbol(s: string | undefined): string {
  if (s === undefined) throw new Error("a dump CSV needs its symbol (from the file name or the options)");
  return s;
}
