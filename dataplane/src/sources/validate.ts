/**
 * Field checks shared by every parser: exact decimal strings, trade ids and
 * timestamps. Prices and quantities stay strings (never floats); these checks
 * only decide whether a string is a positive decimal.
 */
import type { RejectReason } from "../core/types.js";

/** 2017-01-01T00:00:00Z: Binance opened in July 2017, so anything earlier is absurd. */
export const MIN_TRADE_TIME_MS = Date.UTC(2017, 0, 1);
/** 2100-01-01T00:00:00Z: the upper bound for replays, which have no "now" to compare with. */
export const REPLAY_MAX_TRADE_TIME_MS = Date.UTC(2100, 0, 1);
/** A live trade may be at most this far ahead of the local clock (clock skew is seconds, not days). */
export const LIVE_MAX_AHEAD_MS = 86_400_000;
/**
 * Timestamps at or above this are microseconds: in ms it would be the year
 * 5138, in µs it is 1973. Binance spot dumps switched to µs in 2025.
 */
export const MICROS_THRESHOLD = 1e14;

const DECIMAL = /^\d{1,40}(?:\.\d{1,40})?$/;
const NONZERO = /[1-9]/;

/** Bounds for accepted trade times, ms since epoch. */
export interface TimeBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

/** The bounds for file replays: 2017-01-01 up to 2100-01-01. */
export const REPLAY_TIME_BOUNDS: TimeBounds = { minMs: MIN_TRADE_TIME_MS, maxMs: REPLAY_MAX_TRADE_TIME_MS };

/** The bounds for a live feed: 2017-01-01 up to one day past `nowMs`. */
export function liveTimeBounds(nowMs: number): TimeBounds {
  return { minMs: MIN_TRADE_TIME_MS, maxMs: nowMs + LIVE_MAX_AHEAD_MS };
}

/** Why a price string is unusable, or undefined when it is a positive decimal. */
export function checkPrice(p: unknown): RejectReason | undefined {
  if (typeof p !== "string" || !DECIMAL.test(p) || !NONZERO.test(p)) return "bad_price";
  return undefined;
}

/** Why a quantity string is unusable, or undefined when it is a positive decimal. */
export function checkQty(q: unknown): RejectReason | undefined {
  if (typeof q !== "string") return "bad_quantity";
  if (DECIMAL.test(q)) return NONZERO.test(q) ? undefined : "non_positive_quantity";
  if (q.startsWith("-") && DECIMAL.test(q.slice(1))) return "non_positive_quantity";
  return "bad_quantity";
}

/** A non-negative safe integer (trade ids, timestamps) from a JSON number or a CSV field; else undefined. */
export function toId(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === "string" && /^\d{1,16}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/**
 * Converts a trade timestamp to ms: µs values (detected by magnitude) are
 * floored to their millisecond, exactly (integer arithmetic, no float division).
 */
export function toMillis(t: number): number {
  if (t < MICROS_THRESHOLD) return t;
  return (t - (t % 1000)) / 1000;
}

/** True when a (ms) trade time is within the bounds. */
export function timeOk(ms: number, b: TimeBounds): boolean {
  return ms >= b.minMs && ms <= b.maxMs;
}

/** Parses a CSV boolean as Binance writes it (`True`/`False` in spot dumps, `true`/`false` in futures). */
export function toBool(v: string | undefined): boolean | undefined {
  switch (v) {
    case "true":
    case "True":
    case "TRUE":
      return true;
    case "false":
    case "False":
    case "FALSE":
      return false;
    default:
      return undefined;
  }
}

/** Exchange symbols as Binance spells them (e.g. BTCUSDT, BTCUSD_PERP, 1000SHIBUSDT). */
export const SYMBOL_RE = /^[A-Z0-9][A-Z0-9_-]{0,39}$/;
