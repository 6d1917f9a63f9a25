/**
 * Raising a symbol's decimals when a trade arrives with more decimals than the
 * symbol's earlier trades (never seen from Binance, which pads to a fixed
 * precision per symbol, but possible from other sources). Every stored value
 * of the symbol is multiplied by a power of ten, exactly (BigInt: rare path).
 */
import type { ClosedStore } from "./closed-store.js";
import { bigIntToExact, exactToBigInt, POW10 } from "./decimal.js";
import { F, W, type KlineTable } from "./kline-table.js";

/** The tables holding a symbol's state. */
export interface SymbolTables {
  /** The pending accumulators P0: row s. */
  readonly p0: KlineTable;
  /** The pending accumulators P1: row s. */
  readonly p1: KlineTable;
  /** The live slots: `stride` rows per symbol. */
  readonly slots: KlineTable;
  readonly closed: ClosedStore;
  readonly stride: number;
}

const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * Multiplies symbol s's prices by 10^dPrice, volumes by 10^dQty and quote
 * volumes by 10^(dPrice + dQty). Returns false, changing nothing, when a price
 * would exceed 2^53.
 */
export function rescaleSymbol(tables: SymbolTables, s: number, dPrice: number, dQty: number): boolean {
  const rows: [KlineTable, number][] = [
    [tables.p0, s],
    [tables.p1, s],
  ];
  for (let i = 0; i < tables.stride; i++) rows.push([tables.slots, s * tables.stride + i]);
  const closed = tables.closed;
  const cd = closed.rows.d;
  for (let r = 0; r < closed.highWater; r++) {
    const slot = cd[r * W + F.Slot]!;
    if (slot >= 0 && Math.floor(slot / tables.stride) === s) rows.push([closed.rows, r]);
  }
  const fp = POW10[dPrice]!;
  for (const [t, i] of rows) {
    if (t.d[i * W + F.High]! * fp > MAX_EXACT || t.d[i * W + F.Close]! * fp > MAX_EXACT) return false;
  }
  const fq = BigInt(POW10[dQty]!);
  const fpq = BigInt(POW10[dPrice]!) * fq;
  const pair = new Float64Array(2);
  for (const [t, i] of rows) {
    const d = t.d;
    const b = i * W;
    for (const f of [F.Open, F.High, F.Low, F.Close]) d[b + f] = d[b + f]! * fp;
    for (const [f, m] of [
      [F.VolHi, fq],
      [F.TakerVolHi, fq],
      [F.QuoteHi, fpq],
      [F.TakerQuoteHi, fpq],
    ] as const) {
      bigIntToExact(exactToBigInt(d[b + f]!, d[b + f + 1]!) * m, pair);
      d[b + f] = pair[0]!;
      d[b + f + 1] = pair[1]!;
    }
  }
  return true;
}
