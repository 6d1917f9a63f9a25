import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RawTrade } from "../core/types.js";
import { createLogger } from "../obs/log.js";
import { CollectingSink } from "../../test/support/collecting-sink.js";
import { formatScaled, SyntheticMarket, syntheticSymbols } from "./synthetic-market.js";
import { SyntheticSource } from "./synthetic.js";
import { checkPrice, checkQty } from "./validate.js";

const quiet = createLogger("test", { sink: () => {} });
const T0 = Date.UTC(2024, 7, 8);

describe("SyntheticMarket", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const gen = (seed: number): RawTrade[] => {
      const m = new SyntheticMarket(syntheticSymbols(50), seed);
      return Array.from({ length: 500 }, (_, i) => m.next(T0 + i));
    };
    assert.deepEqual(gen(3), gen(3));
    assert.notDeepEqual(gen(3), gen(4));
  });

  it("produces valid exact decimals on each symbol's tick and lot grid, with contiguous ids per symbol", () => {
    const m = new SyntheticMarket(syntheticSymbols(200), 9);
    const lastId = new Map<string, number>();
    const decimals = new Map(m.specs.map((s) => [s.symbol, s]));
    for (let i = 0; i < 50_000; i++) {
      const t = m.next(T0 + i);
      assert.equal(checkPrice(t.price), undefined, t.price);
      assert.equal(checkQty(t.qty), undefined, t.qty);
      const spec = decimals.get(t.symbol);
      assert.ok(spec);
      // Digits beyond the tick / lot decimals are zero padding.
      assert.match(t.price.split(".")[1]?.slice(spec.priceDecimals) ?? "", /^0*$/);
      assert.match(t.qty.split(".")[1]?.slice(spec.qtyDecimals) ?? "", /^0*$/);
      const prev = lastId.get(t.symbol);
      if (prev !== undefined) assert.equal(t.firstId, prev + 1);
      lastId.set(t.symbol, t.lastId);
    }
  });

  it("keeps prices realistic: well-known pairs near their level, all within 4x of the start", () => {
    const m = new SyntheticMarket(["BTCUSDT", "DOGEUSDT", "S0099USDT"], 5);
    const ranges = new Map<string, [number, number]>();
    for (let i = 0; i < 30_000; i++) {
      const t = m.next(T0 + i);
      const p = Number(t.price); // float only to check the range in a test
      const r = ranges.get(t.symbol) ?? [p, p];
      ranges.set(t.symbol, [Math.min(r[0], p), Math.max(r[1], p)]);
    }
    const btc = ranges.get("BTCUSDT");
    assert.ok(btc && btc[0] > 15_000 && btc[1] < 240_000);
    for (const s of m.specs) {
      const r = ranges.get(s.symbol);
      const start = s.startTicks / 10 ** s.priceDecimals;
      assert.ok(r && r[0] > start / 4.5 && r[1] < start * 4.5, `${s.symbol} ${String(r)} vs ${start}`);
    }
  });

  it("gives a symbol the same spec and first trade id whatever list it is generated in", () => {
    const all = new SyntheticMarket(syntheticSymbols(30), 11);
    const shard = new SyntheticMarket(["S0021USDT", "ETHUSDT"], 11);
    assert.deepEqual(
      shard.specs[0],
      all.specs.find((s) => s.symbol === "S0021USDT"),
    );
    const firstOf = (m: SyntheticMarket, sym: string): number => {
      for (let i = 0; ; i++) {
        const t = m.next(T0);
        if (t.symbol === sym) return t.firstId;
      }
    };
    assert.equal(firstOf(shard, "ETHUSDT"), firstOf(all, "ETHUSDT"));
  });

  it("makes the first symbols the busiest", () => {
    const m = new SyntheticMarket(syntheticSymbols(100), 2);
    const n = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const s = m.next(T0).symbol;
      n.set(s, (n.get(s) ?? 0) + 1);
    }
    assert.ok((n.get("BTCUSDT") ?? 0) > (n.get("S0099USDT") ?? 0) * 20);
  });

  it("formats scaled integers with eight decimals", () => {
    assert.equal(formatScaled(6183763, 2), "61837.63000000");
    assert.equal(formatScaled(5, 4), "0.00050000");
    assert.equal(formatScaled(12, 0), "12.00000000");
  });

  it("refuses an empty symbol list", () => {
    assert.throws(() => new SyntheticMarket([]), /at least one symbol/);
  });
});

describe("SyntheticSource", () => {
  it("in virtual time delivers exactly `limit` trades at exact synthetic times without sleeping", async () => {
    const sink = new CollectingSink();
    const src = new SyntheticSource({
      symbols: 20,
      tradesPerSecond: 400,
      virtualStartMs: T0,
      limit: 10_000,
      log: quiet,
    });
    const t = performance.now();
    await src.run(sink, new AbortController().signal);
    assert.ok(performance.now() - t < 2000);
    assert.equal(sink.trades.length, 10_000);
    assert.equal(sink.trades[0]?.time, T0);
    assert.equal(sink.trades[400]?.time, T0 + 1000);
    assert.equal(sink.trades[9_999]?.time, T0 + Math.floor((9_999 * 1000) / 400));
    assert.equal(src.stats().trades, 10_000);
  });

  it("uses the given symbol list", async () => {
    const sink = new CollectingSink();
    await new SyntheticSource({
      symbols: ["AAAUSDT", "BBBUSDT"],
      virtualStartMs: T0,
      limit: 200,
      log: quiet,
    }).run(sink, new AbortController().signal);
    assert.deepEqual(new Set(sink.trades.map((t) => t.symbol)), new Set(["AAAUSDT", "BBBUSDT"]));
  });

  it("in real time emits at the configured rate on the injected clock, stamped with that clock", async () => {
    let clock = T0;
    const sink = new CollectingSink();
    const src = new SyntheticSource({
      tradesPerSecond: 50,
      now: () => clock,
      tickMs: 100,
      limit: 100,
      log: quiet,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    await src.run(sink, new AbortController().signal);
    assert.equal(sink.trades.length, 100);
    // 100 trades at 50/s take 2 s of the injected clock.
    assert.equal(clock, T0 + 2000);
    assert.ok(
      sink.trades.every(
        (t, i) =>
          t.time > T0 && t.time <= T0 + 2000 && (i === 0 || t.time >= (sink.trades[i - 1]?.time ?? 0)),
      ),
    );
  });

  it("after a stall catches up at most the configured backlog and counts the rest as skipped", async () => {
    let clock = T0;
    let calls = 0;
    const ac = new AbortController();
    const sink = new CollectingSink();
    const src = new SyntheticSource({
      tradesPerSecond: 10,
      now: () => clock,
      maxCatchUpSeconds: 1,
      log: quiet,
      sleep: async () => {
        clock += ++calls === 1 ? 60_000 : 100;
        if (calls === 2) ac.abort();
      },
    });
    await src.run(sink, ac.signal);
    assert.equal(sink.trades.length, 10);
    assert.equal(src.stats().skippedAfterStall, 590);
  });

  it("stops when aborted", async () => {
    const ac = new AbortController();
    const sink = new CollectingSink();
    sink.afterTrade = (_t, n) => {
      if (n === 5000) ac.abort();
    };
    await new SyntheticSource({ virtualStartMs: T0, log: quiet }).run(sink, ac.signal);
    assert.ok(sink.trades.length >= 5000 && sink.trades.length < 5000 + 4096);
  });

  it("refuses a non-positive rate", () => {
    assert.throws(() => new SyntheticSource({ tradesPerSecond: 0 }), /tradesPerSecond/);
  });
});
