/**
 * Parses Binance WebSocket messages into trades.
 *
 * Accepts combined-stream messages (`{"stream":"btcusdt@trade","data":{...}}`)
 * and raw ones (`{"e":"trade",...}`), for spot and USD-M futures:
 * - `trade`: t (trade id), p, q, T (trade time), m (buyer is maker);
 * - `aggTrade`: a (aggregate id), p, q, f..l (trade ids), T, m.
 * Everything else (depthUpdate, bookTicker, REST depth snapshots,
 * subscription replies) is ignored, not rejected.
 *
 * USD-M trades carry `X`, the order type of the trade: `MARKET` for ordinary
 * matches, `INSURANCE_FUND` / `ADL` for liquidation fills by the insurance fund
 * and auto-deleveraging, `NA` for others. Binance builds futures klines and the
 * aggTrade stream from MARKET trades only ("Only market trades will be
 * aggregated, which means the insurance fund trades and ADL trades won't be
 * aggregated"), so a trade whose X is present and not MARKET is skipped (not
 * rejected: it is valid input) while its id still counts for gap detection,
 * because it occupies a place in the trade id sequence.
 */
import type { RawTrade, RejectReason } from "../core/types.js";
import { SYMBOL_RE, checkPrice, checkQty, timeOk, toId, toMillis, type TimeBounds } from "./validate.js";

/** What one message turned out to be. */
export type MessageResult =
  /** `seq` is the id that is contiguous in the stream: t for trades, a for aggTrades. */
  | { readonly kind: "trade"; readonly trade: RawTrade; readonly seq: number }
  /** A valid trade that does not count for klines (USD-M non-MARKET). */
  | { readonly kind: "skip"; readonly symbol: string; readonly seq: number; readonly why: string }
  /** Not a trade event (depth, bookTicker, snapshots, replies). */
  | { readonly kind: "ignore" }
  | { readonly kind: "reject"; readonly reason: RejectReason; readonly detail: string };

const IGNORE: MessageResult = { kind: "ignore" };

function reject(reason: RejectReason, detail: string): MessageResult {
  return { kind: "reject", reason, detail };
}

const STREAM_PREFIX = '{"stream":"';

/**
 * True when a combined-stream message names a non-trade stream (depth,
 * bookTicker, ...) in its first bytes: it is ignored without parsing its JSON,
 * which halves the cost of replaying captures dominated by depth updates.
 * Such a message is ignored even if its JSON is broken: we never use it.
 */
export function isNonTradeStream(text: string): boolean {
  if (!text.startsWith(STREAM_PREFIX)) return false;
  const end = text.indexOf('"', STREAM_PREFIX.length);
  if (end < 0) return false;
  const stream = text.slice(STREAM_PREFIX.length, end);
  return !stream.endsWith("@trade") && !stream.endsWith("@aggTrade");
}

/** Parses one message's JSON text. */
export function parseBinanceMessage(text: string, bounds: TimeBounds): MessageResult {
  if (isNonTradeStream(text)) return IGNORE;
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return reject("malformed_json", (e as Error).message);
  }
  return interpretMessage(obj, bounds);
}

/** Interprets an already parsed message. */
export function interpretMessage(obj: unknown, bounds: TimeBounds): MessageResult {
  if (Array.isArray(obj)) return IGNORE; // e.g. !ticker@arr
  if (!isRecord(obj)) return reject("malformed_json", "message is not an object");
  let data: unknown = obj;
  if ("stream" in obj && "data" in obj) data = obj.data;
  if (Array.isArray(data)) return IGNORE;
  if (!isRecord(data)) return reject("malformed_json", "data is not an object");
  const e = data.e;
  if (e === "trade") return tradeEvent(data, bounds);
  if (e === "aggTrade") return aggTradeEvent(data, bounds);
  return IGNORE;
}

function tradeEvent(d: Record<string, unknown>, bounds: TimeBounds): MessageResult {
  const t = toId(d.t);
  if (t === undefined) return reject("malformed_json", `trade: bad trade id t=${String(d.t)}`);
  return finish(d, t, t, t, bounds);
}

function aggTradeEvent(d: Record<string, unknown>, bounds: TimeBounds): MessageResult {
  const a = toId(d.a);
  const f = toId(d.f);
  const l = toId(d.l);
  if (a === undefined || f === undefined || l === undefined || l < f) {
    return reject("malformed_json", `aggTrade: bad ids a=${String(d.a)} f=${String(d.f)} l=${String(d.l)}`);
  }
  return finish(d, a, f, l, bounds);
}

function finish(
  d: Record<string, unknown>,
  seq: number,
  firstId: number,
  lastId: number,
  bounds: TimeBounds,
): MessageResult {
  const symbol = d.s;
  if (typeof symbol !== "string" || !SYMBOL_RE.test(symbol)) {
    return reject("malformed_json", `bad symbol s=${JSON.stringify(symbol)}`);
  }
  const pr = checkPrice(d.p);
  if (pr) return reject(pr, `${symbol} #${seq}: price ${JSON.stringify(d.p)}`);
  const qr = checkQty(d.q);
  if (qr) return reject(qr, `${symbol} #${seq}: quantity ${JSON.stringify(d.q)}`);
  const rawT = toId(d.T);
  if (rawT === undefined)
    return reject("malformed_json", `${symbol} #${seq}: bad trade time T=${String(d.T)}`);
  const time = toMillis(rawT);
  if (!timeOk(time, bounds)) return reject("absurd_timestamp", `${symbol} #${seq}: trade time T=${rawT}`);
  if (typeof d.m !== "boolean")
    return reject("malformed_json", `${symbol} #${seq}: bad maker flag m=${String(d.m)}`);
  if (d.X !== undefined && d.X !== "MARKET") {
    return { kind: "skip", symbol, seq, why: `order type X=${String(d.X)}` };
  }
  const trade: RawTrade = {
    symbol,
    firstId,
    lastId,
    price: d.p as string,
    qty: d.q as string,
    time,
    buyerMaker: d.m,
  };
  return { kind: "trade", trade, seq };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}
