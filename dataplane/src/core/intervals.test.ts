import assert from "node:assert/strict";
import { test } from "node:test";
import {
  closeTime,
  daysFromCivil,
  intervalSpec,
  nextOpenTime,
  openTime,
  parseInterval,
  parseUtcOffset,
} from "./intervals.js";
import { INTERVALS, type Interval } from "./types.js";

const at = (iso: string): number => Date.parse(iso);
const open = (iv: Interval, iso: string, offsetMinutes = 0): string =>
  new Date(openTime(intervalSpec(iv, offsetMinutes), at(iso))).toISOString();
const next = (iv: Interval, iso: string, offsetMinutes = 0): string => {
  const spec = intervalSpec(iv, offsetMinutes);
  return new Date(nextOpenTime(spec, openTime(spec, at(iso)))).toISOString();
};

test("interval names parse as Binance spells them, 1M being the month and 1m the minute", () => {
  assert.equal(parseInterval("1M"), "1M");
  assert.equal(parseInterval("1m"), "1m");
  assert.equal(parseInterval("2d"), undefined);
  assert.equal(parseInterval(""), undefined);
  for (const iv of INTERVALS) assert.equal(parseInterval(iv), iv);
});

test("sub-day intervals align to multiples of their length since the epoch", () => {
  assert.equal(open("1s", "2024-08-08T23:59:59.999Z"), "2024-08-08T23:59:59.000Z");
  assert.equal(open("1m", "2024-08-08T23:59:59.999Z"), "2024-08-08T23:59:00.000Z");
  assert.equal(open("3m", "2024-08-08T23:59:59.999Z"), "2024-08-08T23:57:00.000Z");
  assert.equal(open("5m", "2024-08-08T23:59:59.999Z"), "2024-08-08T23:55:00.000Z");
  assert.equal(open("15m", "2024-08-08T23:59:59.999Z"), "2024-08-08T23:45:00.000Z");
  assert.equal(open("30m", "2024-08-08T23:29:59.999Z"), "2024-08-08T23:00:00.000Z");
  assert.equal(open("2h", "2024-08-08T23:00:00Z"), "2024-08-08T22:00:00.000Z");
  assert.equal(open("4h", "2024-08-08T23:00:00Z"), "2024-08-08T20:00:00.000Z");
  assert.equal(open("6h", "2024-08-08T23:00:00Z"), "2024-08-08T18:00:00.000Z");
  assert.equal(open("8h", "2024-08-08T23:00:00Z"), "2024-08-08T16:00:00.000Z");
  assert.equal(open("12h", "2024-08-08T11:59:59.999Z"), "2024-08-08T00:00:00.000Z");
});

test("close time is the next open time minus one millisecond", () => {
  const spec = intervalSpec("1m");
  assert.equal(closeTime(spec, at("2024-08-08T23:59:00Z")), at("2024-08-08T23:59:59.999Z"));
  const month = intervalSpec("1M");
  assert.equal(closeTime(month, at("2024-02-01T00:00:00Z")), at("2024-02-29T23:59:59.999Z"));
});

test("months end on the last day of the month and December rolls into the next year", () => {
  assert.equal(open("1M", "2024-01-31T23:59:59.999Z"), "2024-01-01T00:00:00.000Z");
  assert.equal(next("1M", "2024-01-31T23:59:59.999Z"), "2024-02-01T00:00:00.000Z");
  assert.equal(open("1M", "2023-12-31T23:59:59.999Z"), "2023-12-01T00:00:00.000Z");
  assert.equal(next("1M", "2023-12-15T00:00:00Z"), "2024-01-01T00:00:00.000Z");
  assert.equal(open("1M", "2024-01-01T00:00:00Z"), "2024-01-01T00:00:00.000Z");
  assert.equal(open("1d", "2023-12-31T23:59:59.999Z"), "2023-12-31T00:00:00.000Z");
});

test("leap days belong to February in leap years, including 2000 but not 2100", () => {
  assert.equal(open("1d", "2024-02-29T12:00:00Z"), "2024-02-29T00:00:00.000Z");
  assert.equal(next("1M", "2024-02-29T12:00:00Z"), "2024-03-01T00:00:00.000Z");
  assert.equal(open("1M", "2024-02-29T23:59:59.999Z"), "2024-02-01T00:00:00.000Z");
  assert.equal(next("1M", "2023-02-10T00:00:00Z"), "2023-03-01T00:00:00.000Z");
  assert.equal(next("1M", "2000-02-10T00:00:00Z"), "2000-03-01T00:00:00.000Z");
  assert.equal(next("1d", "2000-02-28T10:00:00Z"), "2000-02-29T00:00:00.000Z");
  assert.equal(next("1d", "2100-02-28T10:00:00Z"), "2100-03-01T00:00:00.000Z");
});

test("weeks start on Monday 00:00 UTC", () => {
  assert.equal(open("1w", "2024-08-08T12:00:00Z"), "2024-08-05T00:00:00.000Z"); // Thursday
  assert.equal(open("1w", "2024-08-11T23:59:59.999Z"), "2024-08-05T00:00:00.000Z"); // Sunday
  assert.equal(open("1w", "2024-08-12T00:00:00Z"), "2024-08-12T00:00:00.000Z"); // Monday
  assert.equal(open("1w", "1970-01-05T00:00:00Z"), "1970-01-05T00:00:00.000Z");
  assert.equal(new Date(open("1w", "2025-01-01T00:00:00Z")).getUTCDay(), 1);
});

test("3d klines are aligned to multiples of three days since 1970-01-01", () => {
  assert.equal(open("3d", "1970-01-03T23:59:59.999Z"), "1970-01-01T00:00:00.000Z");
  assert.equal(open("3d", "1970-01-04T00:00:00Z"), "1970-01-04T00:00:00.000Z");
  const o = at(open("3d", "2024-08-08T12:00:00Z"));
  assert.equal((o / 86_400_000) % 3, 0);
  assert.equal(open("3d", "2024-08-08T12:00:00Z"), "2024-08-06T00:00:00.000Z");
  assert.equal(next("3d", "2024-08-08T12:00:00Z"), "2024-08-09T00:00:00.000Z");
});

test("a UTC offset shifts 1d and longer intervals but not shorter ones", () => {
  const plus8 = 480;
  assert.equal(open("1d", "2024-08-08T15:59:59.999Z", plus8), "2024-08-07T16:00:00.000Z");
  assert.equal(open("1d", "2024-08-08T16:00:00Z", plus8), "2024-08-08T16:00:00.000Z");
  assert.equal(open("12h", "2024-08-08T15:59:59.999Z", plus8), "2024-08-08T12:00:00.000Z");
  assert.equal(open("1h", "2024-08-08T15:30:00Z", plus8), "2024-08-08T15:00:00.000Z");
  // Monday 00:00 at +08:00 is Sunday 16:00 UTC; at -05:00 it is Monday 05:00 UTC.
  assert.equal(open("1w", "2024-08-11T16:00:00Z", plus8), "2024-08-11T16:00:00.000Z");
  assert.equal(open("1w", "2024-08-11T15:59:59.999Z", plus8), "2024-08-04T16:00:00.000Z");
  assert.equal(open("1w", "2024-08-12T04:59:59.999Z", -300), "2024-08-05T05:00:00.000Z");
  assert.equal(open("3d", "2024-08-08T12:00:00Z", plus8), "2024-08-05T16:00:00.000Z");
});

test("1M with an offset follows the calendar months of the offset clock", () => {
  const plus8 = 480;
  assert.equal(open("1M", "2024-07-31T16:00:00Z", plus8), "2024-07-31T16:00:00.000Z");
  assert.equal(next("1M", "2024-07-31T16:00:00Z", plus8), "2024-08-31T16:00:00.000Z");
  assert.equal(open("1M", "2024-07-31T15:59:59.999Z", plus8), "2024-06-30T16:00:00.000Z");
  assert.equal(open("1M", "2024-12-31T20:00:00Z", plus8), "2024-12-31T16:00:00.000Z");
  assert.equal(next("1M", "2024-12-31T20:00:00Z", plus8), "2025-01-31T16:00:00.000Z");
  assert.equal(open("1M", "2024-03-01T02:00:00Z", -300), "2024-02-01T05:00:00.000Z");
  assert.equal(next("1M", "2024-03-01T02:00:00Z", -300), "2024-03-01T05:00:00.000Z");
});

test("every interval's open time contains the time and the next open is itself an open time", () => {
  let t = at("1999-12-20T00:00:00Z");
  for (let n = 0; n < 3000; n++) {
    t += 7_919_999_993; // ~92 days, co-prime with everything
    for (const off of [0, 480, -330, 840]) {
      for (const iv of INTERVALS) {
        const spec = intervalSpec(iv, off);
        const o = openTime(spec, t);
        const nx = nextOpenTime(spec, o);
        assert.ok(o <= t && t < nx, `${iv} ${off} ${t}`);
        assert.equal(openTime(spec, nx), nx);
        assert.equal(openTime(spec, nx - 1), o);
      }
    }
  }
});

test("days from civil dates agree with the platform calendar", () => {
  for (let y = 1900; y <= 2200; y += 7) {
    for (let m = 1; m <= 12; m++) {
      for (const d of [1, 28, 29]) {
        assert.equal(daysFromCivil(y, m, d) * 86_400_000, Date.UTC(y, m - 1, d));
      }
    }
  }
});

test("UTC offsets parse in Binance's forms and out-of-range or malformed ones throw", () => {
  assert.equal(parseUtcOffset("+08:00"), 480);
  assert.equal(parseUtcOffset("-05:30"), -330);
  assert.equal(parseUtcOffset("05:45"), 345);
  assert.equal(parseUtcOffset("8"), 480);
  assert.equal(parseUtcOffset("-1:00"), -60);
  assert.equal(parseUtcOffset("0"), 0);
  assert.equal(parseUtcOffset("-0"), 0);
  assert.equal(parseUtcOffset("Z"), 0);
  assert.equal(parseUtcOffset("+14:00"), 840);
  assert.equal(parseUtcOffset("-12:00"), -720);
  assert.throws(() => parseUtcOffset("+14:01"), /out of range/);
  assert.throws(() => parseUtcOffset("-13"), /out of range/);
  assert.throws(() => parseUtcOffset("08:60"), /minutes/);
  assert.throws(() => parseUtcOffset("UTC+8"), /invalid UTC offset "UTC\+8"/);
  assert.throws(() => parseUtcOffset(""), /invalid/);
});
