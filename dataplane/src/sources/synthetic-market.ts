/**
 * A deterministic synthetic market: per-symbol random-walk prices on a tick
 * grid, sizes on a lot-size grid, contiguous trade ids, Zipf-like activity
 * (a few busy symbols, a long quiet tail). Pure: the caller passes trade times.
 * Prices and sizes are integers of ticks / lots, formatted as exact decimal
 * strings the way Binance spot writes them (8 decimals).
 */
import type { RawTrade } from "../core/types.js";
import { Prng } from "./prng.js";

/** Static description of one synthetic symbol. */
export interface SymbolSpec {
  readonly symbol: string;
  /** Decimals of the price tick (tick = 10^-priceDecimals). */
  readonly priceDecimals: number;
  /** Decimals of the lot size (step = 10^-qtyDecimals). */
  readonly qtyDecimals: number;
  /** Starting price in ticks. */
  readonly startTicks: number;
}

interface SymbolState extends SymbolSpec {
  ticks: number;
  /** `ticks` formatted; reformatted only when the price moves (most trades do not move it). */
  price: string;
  nextId: number;
  /** Formatted sizes to draw from: log-normal around ~100 quote units, precomputed for speed. */
  sizes: readonly string[];
}

/** Sizes per symbol's table (a power of two, so drawing one is a mask). */
const SIZE_TABLE = 256;

/** Well-known pairs first, with roughly realistic prices and Binance-like tick and lot sizes. */
const KNOWN: readonly [string, number, number, number][] = [
  // symbol, price, price decimals, qty decimals
  ["BTCUSDT", 60000, 2, 5],
  ["ETHUSDT", 2600, 2, 4],
  ["BNBUSDT", 520, 2, 3],
  ["SOLUSDT", 150, 2, 3],
  ["XRPUSDT", 0.55, 4, 0],
  ["DOGEUSDT", 0.1, 5, 0],
  ["ADAUSDT", 0.35, 4, 1],
  ["TRXUSDT", 0.13, 4, 1],
  ["AVAXUSDT", 25, 2, 2],
  ["LINKUSDT", 11, 3, 2],
  ["DOTUSDT", 4.5, 3, 2],
  ["LTCUSDT", 60, 2, 3],
];

const OUT_DECIMALS = 8;

/** Symbol names: the well-known list, then generated ones (S0001USDT...). */
export function syntheticSymbols(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const known = KNOWN[i];
    out.push(known ? known[0] : `S${String(i).padStart(4, "0")}USDT`);
  }
  return out;
}

/** Derives a symbol's spec: known pairs get their table entry, others a seeded log-uniform price. */
function specFor(symbol: string, rng: Prng): SymbolSpec {
  const known = KNOWN.find((k) => k[0] === symbol);
  if (known) {
    const [, price, pd, qd] = known;
    return { symbol, priceDecimals: pd, qtyDecimals: qd, startTicks: Math.round(price * 10 ** pd) };
  }
  const price = 10 ** (rng.next() * 7 - 4); // 0.0001 .. 1000
  const mag = Math.floor(Math.log10(price));
  // About five significant digits of price, like most Binance pairs.
  const priceDecimals = Math.min(8, Math.max(0, 4 - mag));
  const qtyDecimals = Math.min(8, Math.max(0, mag + 1));
  return {
    symbol,
    priceDecimals,
    qtyDecimals,
    startTicks: Math.max(100, Math.round(price * 10 ** priceDecimals)),
  };
}

/** Formats an integer count of 10^-decimals units with `OUT_DECIMALS` decimals. */
export function formatScaled(units: number, decimals: number): string {
  const s = String(units).padStart(decimals + 1, "0");
  const int = decimals === 0 ? s : s.slice(0, -decimals);
  const frac = decimals === 0 ? "" : s.slice(-decimals);
  return `${int}.${frac.padEnd(OUT_DECIMALS, "0")}`;
}

/** The generator. `next(time)` returns the next trade of a randomly chosen symbol. */
export class SyntheticMarket {
  readonly specs: readonly SymbolSpec[];
  private readonly states: SymbolState[];
  private readonly cumWeights: Float64Array;
  private readonly rng: Prng;

  constructor(symbols: readonly string[], seed = 1) {
    if (symbols.length === 0) throw new Error("synthetic market needs at least one symbol");
    this.rng = new Prng(seed);
    this.states = symbols.map((s) => {
      // Each symbol's spec and first id depend only on (seed, symbol), not on the list: a worker
      // generating its shard's symbols sees the same prices as a single process generating all.
      const own = new Prng(seed ^ fnv1a(s));
      const spec = specFor(s, own);
      const notionalPerLot = (spec.startTicks / 10 ** spec.priceDecimals) * 10 ** -spec.qtyDecimals;
      const baseLots = Math.max(1, Math.round(100 / notionalPerLot));
      const sizes = Array.from({ length: SIZE_TABLE }, () => {
        const lots = Math.max(1, Math.round(baseLots * Math.exp(own.normal() * 1.2 - 0.7)));
        return formatScaled(lots, spec.qtyDecimals);
      });
      return {
        ...spec,
        ticks: spec.startTicks,
        price: formatScaled(spec.startTicks, spec.priceDecimals),
        nextId: 1_000_000 + own.int(0, 1_000_000_000),
        sizes,
      };
    });
    this.specs = this.states.map(({ symbol, priceDecimals, qtyDecimals, startTicks }) => ({
      symbol,
      priceDecimals,
      qtyDecimals,
      startTicks,
    }));
    // Zipf-like weights 1/(rank+1): symbol 0 is the busiest.
    this.cumWeights = new Float64Array(symbols.length);
    let acc = 0;
    for (let i = 0; i < symbols.length; i++) this.cumWeights[i] = acc += 1 / (i + 1);
  }

  /** The next trade, at `time` (ms). */
  next(time: number): RawTrade {
    const st = this.pick();
    this.walk(st);
    const id = st.nextId++;
    // One 32-bit draw gives the size (low 8 bits) and the side (top bit).
    const r = this.rng.u32();
    return {
      symbol: st.symbol,
      firstId: id,
      lastId: id,
      price: st.price,
      qty: st.sizes[r & (SIZE_TABLE - 1)] as string,
      time,
      buyerMaker: r >>> 31 === 1,
    };
  }

  private pick(): SymbolState {
    const total = this.cumWeights[this.cumWeights.length - 1] ?? 1;
    const x = this.rng.next() * total;
    let lo = 0;
    let hi = this.cumWeights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumWeights[mid] ?? 0) > x) hi = mid;
      else lo = mid + 1;
    }
    return this.states[lo] as SymbolState;
  }

  /** Moves the price a few ticks, pulled back when it strays beyond 4x from its start. */
  private walk(st: SymbolState): void {
    const r = this.rng.next();
    let step = r < 0.3 ? -1 : r < 0.6 ? 1 : 0;
    if (this.rng.next() < 0.02) step *= this.rng.int(2, 20);
    if (st.ticks > st.startTicks * 4) step = -Math.abs(step);
    if (st.ticks < st.startTicks / 4) step = Math.abs(step);
    if (step === 0) return;
    st.ticks = Math.max(1, st.ticks + step);
    st.price = formatScaled(st.ticks, st.priceDecimals);
  }
}

/** FNV-1a 32-bit hash of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
