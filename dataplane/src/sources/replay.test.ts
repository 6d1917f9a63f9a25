import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { createLogger } from "../obs/log.js";
import { binanceData } from "../../test/support/shared-data.js";
import { captureLog, CollectingSink } from "../../test/support/collecting-sink.js";
import { replayFiles, ReplaySource } from "./replay.js";

const quiet = createLogger("test", { sink: () => {} });
const dir = mkdtempSync(join(tmpdir(), "klagg-replay-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function tmp(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const SPOT_LINE = (t: number, T: number, sym = "BTCUSDT"): string =>
  `1723161254087896568 {"stream":"${sym.toLowerCase()}@trade","data":{"e":"trade","E":${T},"s":"${sym}","t":${t},"p":"61837.63000000","q":"0.02000000","T":${T},"m":true,"M":true}}`;

describe("ReplaySource on the shared captures", () => {
  it("counts every @trade message of the USD-M capture and ignores depth, bookTicker and the snapshot", async () => {
    const sink = new CollectingSink();
    const stats = await replayFiles([binanceData("ws-captures/usdm-btcusdt-20240808.gz")], sink, {
      log: quiet,
    });
    assert.equal(sink.trades.length, 21_313);
    assert.equal(stats.trades, 21_313);
    assert.equal(sink.rejects.length, 0);
    assert.equal(stats.ignored, stats.lines - 21_313);
    assert.equal(sink.trades[0]?.time, Date.UTC(2024, 7, 8, 23, 54, 16, 322));
    assert.equal(sink.trades.at(-1)?.time, Date.UTC(2024, 7, 8, 23, 59, 59, 643));
  });

  it("replays the two spot captures in sequence with contiguous trade ids", async () => {
    const sink = new CollectingSink();
    await replayFiles(
      [
        binanceData("ws-captures/spot-btcusdt-20240808.gz"),
        binanceData("ws-captures/spot-btcusdt-20240809.gz"),
      ],
      sink,
      { log: quiet },
    );
    assert.equal(sink.trades.length, 9_757 + 10_147);
    for (let i = 1; i < sink.trades.length; i++) {
      assert.equal(sink.trades[i]?.firstId, (sink.trades[i - 1]?.lastId ?? 0) + 1, `trade ${i}`);
    }
  });

  it("reads the COIN-M aggTrades dump with header: 105,280 rows covering 240,198 trades", async () => {
    const sink = new CollectingSink();
    await replayFiles([binanceData("dumps/cm-BTCUSD_PERP-aggTrades-2026-05-08.csv")], sink, { log: quiet });
    assert.equal(sink.trades.length, 105_280);
    const ids = sink.trades.reduce((n, t) => n + t.lastId - t.firstId + 1, 0);
    assert.equal(ids, 240_198);
    assert.equal(sink.trades[0]?.symbol, "BTCUSD_PERP");
    assert.equal(sink.rejects.length, 0);
  });

  it("floors the spot aggTrades dump's microsecond timestamps to milliseconds", async () => {
    const sink = new CollectingSink();
    await replayFiles([binanceData("dumps/spot-BTCUSDT-aggTrades-2026-01-01-first5000.csv")], sink, {
      log: quiet,
    });
    assert.equal(sink.trades.length, 5_000);
    // First row: 1767225600039409 µs.
    assert.equal(sink.trades[0]?.time, 1767225600039);
    assert.equal(sink.trades[0]?.buyerMaker, true);
    assert.ok(sink.trades.every((t) => t.time < 1e13));
  });

  it("skips other symbols silently with a symbol filter, including whole dump files", async () => {
    const sink = new CollectingSink();
    const src = new ReplaySource({
      files: [
        binanceData("ws-captures/spot-btcusdt-20240808.gz"),
        binanceData("dumps/cm-BTCUSD_PERP-aggTrades-2026-05-08.csv"),
      ],
      symbols: ["ETHUSDT"],
      log: quiet,
    });
    await src.run(sink, new AbortController().signal);
    assert.equal(sink.trades.length, 0);
    assert.equal(sink.rejects.length, 0);
    assert.equal(src.stats().filtered, 9_757);
  });
});

describe("ReplaySource on bad and unusual input", () => {
  it("rejects bad lines with their reasons, logs them rate-limited, and keeps going", async () => {
    const long = `1 {"x":"${"a".repeat(70 * 1024)}"}`;
    const file = tmp(
      "bad.capture",
      [
        SPOT_LINE(1, 1723161255342),
        "not a capture line",
        '1723161254087896568 {"stream":"btcusdt@trade","data":{"e":"trade"',
        long,
        SPOT_LINE(2, 1000),
        SPOT_LINE(3, 1723161255342, "ETHUSDT"),
        SPOT_LINE(4, 1723161255343).replace('"p":"61837.63000000"', '"p":"NaN"'),
        SPOT_LINE(5, 1723161255344).replace('"q":"0.02000000"', '"q":"-1"'),
        "",
        SPOT_LINE(6, 1723161255345),
      ].join("\n"),
    );
    const log = captureLog();
    const sink = new CollectingSink();
    const src = new ReplaySource({
      files: [file],
      knownSymbols: ["BTCUSDT"],
      log: createLogger("t", { sink: log.sink }),
    });
    await src.run(sink, new AbortController().signal);
    assert.deepEqual(
      sink.trades.map((t) => t.firstId),
      [1, 6],
    );
    assert.deepEqual(sink.reasons(), [
      "malformed_line",
      "malformed_json",
      "line_too_long",
      "absurd_timestamp",
      "unknown_symbol",
      "bad_price",
      "non_positive_quantity",
    ]);
    assert.equal(src.stats().rejected.line_too_long, 1);
    const logged = new Set(log.lines.map((l) => l.reason));
    for (const r of sink.reasons()) assert.ok(logged.has(r), `log names ${r}`);
  });

  it("detects gzip by content, whatever the file name, and skips a CSV header", async () => {
    const csv =
      "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n1,10.5,1.0,7,9,1778198400020,true\n";
    const file = tmp("ETHUSDT-aggTrades-2026-05-08.csv", gzipSync(csv));
    const sink = new CollectingSink();
    await replayFiles([file], sink, { log: quiet });
    assert.deepEqual(sink.trades, [
      {
        symbol: "ETHUSDT",
        firstId: 7,
        lastId: 9,
        price: "10.5",
        qty: "1.0",
        time: 1778198400020,
        buyerMaker: true,
      },
    ]);
    assert.equal(sink.rejects.length, 0);
  });

  it("reads a headerless trades dump without a trailing newline", async () => {
    const file = tmp(
      "SOLUSDT-trades-2024-08-08.csv",
      "11,150.1,2,300.2,1723161255342,False,True\n12,150.2,1,150.2,1723161255343,True,True",
    );
    const sink = new CollectingSink();
    await replayFiles([file], sink, { log: quiet });
    assert.deepEqual(
      sink.trades.map((t) => [t.symbol, t.firstId, t.buyerMaker]),
      [
        ["SOLUSDT", 11, false],
        ["SOLUSDT", 12, true],
      ],
    );
  });

  it("counts a truncated gzip file as a rejection and goes on with the next file", async () => {
    const gz = gzipSync([SPOT_LINE(1, 1723161255342), SPOT_LINE(2, 1723161255342)].join("\n") + "\n");
    const broken = tmp("broken.gz", gz.subarray(0, gz.length - 10));
    const good = tmp("good.jsonl", SPOT_LINE(3, 1723161255342).replace(/^\d+ /, "") + "\n");
    const sink = new CollectingSink();
    await replayFiles([broken, good], sink, { log: quiet });
    assert.ok(sink.rejects.some((r) => r.reason === "malformed_line" && r.detail.includes("read error")));
    assert.equal(sink.trades.at(-1)?.firstId, 3);
  });

  it("fails clearly on a file it cannot recognise, a dump without a symbol, or a missing file", async () => {
    const kl = tmp(
      "klines.csv",
      "1577836800000,7195.24,7196.25,7183.14,7186.68,51.6,1577836859999,371233.5,493,19.5,140888.4,0\n",
    );
    await assert.rejects(
      replayFiles([kl], new CollectingSink(), { log: quiet }),
      /unrecognized trade file format/,
    );
    const noSym = tmp("dump.csv", "1,10.5,1.0,7,9,1778198400020,true\n");
    await assert.rejects(replayFiles([noSym], new CollectingSink(), { log: quiet }), /needs its symbol/);
    await assert.rejects(replayFiles([join(dir, "nope.gz")], new CollectingSink(), { log: quiet }), /ENOENT/);
  });

  it("paces trades at the speed factor relative to trade time", async () => {
    const file = tmp(
      "paced.jsonl",
      [0, 1000, 3000].map((d, i) => SPOT_LINE(i, 1723161255000 + d).replace(/^\d+ /, "")).join("\n"),
    );
    let clock = 0;
    const sleeps: number[] = [];
    const sink = new CollectingSink();
    const src = new ReplaySource({
      files: [file],
      speed: 2,
      log: quiet,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    await src.run(sink, new AbortController().signal);
    assert.deepEqual(sleeps, [500, 1000]);
    assert.equal(sink.trades.length, 3);
  });

  it("stops promptly when aborted mid-file", async () => {
    const ac = new AbortController();
    const sink = new CollectingSink();
    sink.afterTrade = (_t, n) => {
      if (n === 100) ac.abort();
    };
    await new ReplaySource({ files: [binanceData("ws-captures/usdm-btcusdt-20240808.gz")], log: quiet }).run(
      sink,
      ac.signal,
    );
    assert.equal(sink.trades.length, 100);
  });
});
