/**
 * Binance kline interval arithmetic. Pure integer math on ms timestamps (UTC),
 * no Date objects and no clocks, so it is cheap enough for the engine's hot
 * transitions and identical on every machine.
 *
 * Alignment rules (as Binance):
 * - 1s..12h: multiples of the length since the Unix epoch (UTC, never offset).
 * - 1d, 3d: multiples of the length since the epoch, shifted by the UTC offset
 *   (3d is aligned to 1970-01-01, like Binance's 3d klines).
 * - 1w: weeks start Monday 00:00 (1970-01-05 was the first Monday), shifted by the offset.
 * - 1M: calendar months of the offset-shifted clock.
 */
import { INTERVALS, type Interval } from "./types.js";

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** 1970-01-05T00:00Z, the first Monday after the epoch. */
const FIRST_MONDAY_MS = 4 * DAY_MS;

/** Fixed length of each interval in ms; 0 for the calendar month. */
const LENGTH_MS: Readonly<Record<Interval, number>> = {
  "1s": SECOND_MS,
  "1m": MINUTE_MS,
  "3m": 3 * MINUTE_MS,
  "5m": 5 * MINUTE_MS,
  "15m": 15 * MINUTE_MS,
  "30m": 30 * MINUTE_MS,
  "1h": HOUR_MS,
  "2h": 2 * HOUR_MS,
  "4h": 4 * HOUR_MS,
  "6h": 6 * HOUR_MS,
  "8h": 8 * HOUR_MS,
  "12h": 12 * HOUR_MS,
  "1d": DAY_MS,
  "3d": 3 * DAY_MS,
  "1w": 7 * DAY_MS,
  "1M": 0,
};

const INTERVAL_SET: ReadonlySet<string> = new Set(INTERVALS);

/** The interval named `name`, or undefined when Binance has no such interval ("1M" is a month, "1m" a minute). */
export function parseInterval(name: string): Interval | undefined {
  return INTERVAL_SET.has(name) ? (name as Interval) : undefined;
}

/** True for the intervals the UTC offset applies to (1d and longer, as Binance's `timeZone`). */
export function usesOffset(interval: Interval): boolean {
  const len = LENGTH_MS[interval];
  return len === 0 || len >= DAY_MS;
}

/** Fixed length in ms, or 0 for the calendar month. */
export function intervalLengthMs(interval: Interval): number {
  return LENGTH_MS[interval];
}

/**
 * Precomputed alignment of one interval for one UTC offset; the engine keeps
 * one per configured interval so the hot path does no lookups.
 */
export interface IntervalSpec {
  readonly name: Interval;
  /** Fixed length in ms; 0 = calendar month. */
  readonly lengthMs: number;
  /** A time that is an open time (fixed-length intervals). */
  readonly anchorMs: number;
  /** Offset applied to this interval, ms (0 below 1d). */
  readonly offsetMs: number;
}

/** Builds the alignment of `interval` under a UTC offset of `utcOffsetMinutes` (e.g. 480 for +08:00). */
export function intervalSpec(interval: Interval, utcOffsetMinutes = 0): IntervalSpec {
  const offsetMs = usesOffset(interval) ? utcOffsetMinutes * MINUTE_MS : 0;
  const base = interval === "1w" ? FIRST_MONDAY_MS : 0;
  // Local midnight happens at UTC time (local - offset).
  return { name: interval, lengthMs: LENGTH_MS[interval], anchorMs: base - offsetMs, offsetMs };
}

/** Open time of the kline containing `t`. */
export function openTime(spec: IntervalSpec, t: number): number {
  const len = spec.lengthMs;
  if (len !== 0) {
    // Floor division, not %: % on doubles is a slow library call. Exact here: times are integers
    // far below 2^53 and lengths >= 1000, so the quotient is never within rounding of an integer.
    const x = t - spec.anchorMs;
    return spec.anchorMs + Math.floor(x / len) * len;
  }
  const local = t + spec.offsetMs;
  const days = Math.floor(local / DAY_MS);
  const ym = yearMonthOfDays(days);
  return daysFromCivil(Math.floor(ym / 12), (ym % 12) + 1, 1) * DAY_MS - spec.offsetMs;
}

/** Open time of the kline after the one that opens at `open` (which must be an open time). */
export function nextOpenTime(spec: IntervalSpec, open: number): number {
  const len = spec.lengthMs;
  if (len !== 0) return open + len;
  const days = Math.floor((open + spec.offsetMs) / DAY_MS);
  const ym = yearMonthOfDays(days) + 1;
  return daysFromCivil(Math.floor(ym / 12), (ym % 12) + 1, 1) * DAY_MS - spec.offsetMs;
}

/** Close time of the kline that opens at `open`: next open - 1 ms (Binance convention). */
export function closeTime(spec: IntervalSpec, open: number): number {
  return nextOpenTime(spec, open) - 1;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): exact integer math, valid for any year.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** year * 12 + (month - 1) of a day count since the epoch (inverse of daysFromCivil). */
function yearMonthOfDays(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return year * 12 + month - 1;
}

/**
 * Parses a Binance `timeZone` value into minutes east of UTC: "+08:00", "-05:30",
 * "8", "-1:00", "05:45", "0", "Z". Binance accepts [-12:00, +14:00]; anything
 * else throws a RangeError naming the value.
 */
export function parseUtcOffset(text: string): number {
  const s = text.trim();
  if (s === "Z" || s === "z") return 0;
  const m = /^([+-]?)(\d{1,2})(?::?(\d{2}))?$/.exec(s);
  if (m === null) throw new RangeError(`invalid UTC offset ${JSON.stringify(text)}: expected e.g. "+08:00"`);
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (minutes >= 60) throw new RangeError(`invalid UTC offset ${JSON.stringify(text)}: minutes must be < 60`);
  const total = (m[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
  if (total < -12 * 60 || total > 14 * 60) {
    throw new RangeError(`UTC offset ${JSON.stringify(text)} out of range [-12:00, +14:00]`);
  }
  return total === 0 ? 0 : total; // never -0
}
