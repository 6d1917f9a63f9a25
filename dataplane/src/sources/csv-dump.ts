/**
 * Parses rows of Binance public dump CSVs (data.binance.vision) into trades.
 * Spot and futures variants: with or without header, `True/False` or
 * `true/false`, ms or µs timestamps (µs floored to ms), optional trailing
 * `is_best_match` column.
 */
import type { RawTrade } from "../core/types.js";
import type { LineResult } from "./capture.js";
import { checkPrice, checkQty, timeOk, toBool, toId, toMillis, type TimeBounds } from "./validate.js";

/** `id,price,qty,quote_qty,time,is_buyer_maker[,is_best_match]` */
export function parseTradesRow(line: string, symbol: string, bounds: TimeBounds): LineResult {
  const c = line.split(",");
  if (c.length < 6 || c.length > 7) return bad(`trades row has ${c.length} columns`, line);
  const id = toId(c[0]);
  if (id === undefined) return bad("bad trade id", line);
  return row(symbol, id, id, id, c[1], c[2], c[4], c[5], bounds, line);
}

/** `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker[,is_best_match]` */
export function parseAggTradesRow(line: string, symbol: string, bounds: TimeBounds): LineResult {
  const c = line.split(",");
  if (c.length < 7 || c.length > 8) return bad(`aggTrades row has ${c.length} columns`, line);
  const a = toId(c[0]);
  const f = toId(c[3]);
  const l = toId(c[4]);
  if (a === undefined || f === undefined || l === undefined || l < f) return bad("bad trade ids", line);
  return row(symbol, a, f, l, c[1], c[2], c[5], c[6], bounds, line);
}

function row(
  symbol: string,
  seq: number,
  firstId: number,
  lastId: number,
  price: string | undefined,
  qty: string | undefined,
  timeField: string | undefined,
  makerField: string | undefined,
  bounds: TimeBounds,
  line: string,
): LineResult {
  const pr = checkPrice(price);
  if (pr) return { kind: "reject", reason: pr, detail: `${symbol} #${seq}: price ${JSON.stringify(price)}` };
  const qr = checkQty(qty);
  if (qr) return { kind: "reject", reason: qr, detail: `${symbol} #${seq}: quantity ${JSON.stringify(qty)}` };
  const rawT = toId(timeField);
  if (rawT === undefined) return bad("bad time", line);
  const time = toMillis(rawT);
  if (!timeOk(time, bounds)) {
    return { kind: "reject", reason: "absurd_timestamp", detail: `${symbol} #${seq}: time ${rawT}` };
  }
  const buyerMaker = toBool(makerField);
  if (buyerMaker === undefined) return bad("bad is_buyer_maker", line);
  const trade: RawTrade = {
    symbol,
    firstId,
    lastId,
    price: price as string,
    qty: qty as string,
    time,
    buyerMaker,
  };
  return { kind: "trade", trade, seq };
}

function bad(why: string, line: string): LineResult {
  return { kind: "reject", reason: "malformed_line", detail: `${why}: ${line}` };
}
