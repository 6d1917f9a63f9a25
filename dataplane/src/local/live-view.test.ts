import { test } from "node:test";
import assert from "node:assert/strict";
import { FakePublisher, kline } from "../../test/support/snapshot-fixtures.js";
import { cutDecimals, LiveView, renderLine, renderTable } from "./live-view.js";

const T0 = Date.UTC(2024, 7, 8, 23, 55);
const info = { title: "demo", interval: "1m", top: 2, mode: "lines" as const };

test("cutDecimals shortens decimals for display without rounding", () => {
  assert.equal(cutDecimals("17260.789", 2), "17260.78");
  assert.equal(cutDecimals("5", 2), "5.00");
  assert.equal(cutDecimals("1.5", 3), "1.500");
  assert.equal(cutDecimals("9.99", 0), "9");
});

test("the table lists the top symbols with their direction and the status line", () => {
  const k = kline("BTCUSDT", "1m", T0, "2");
  k.open = "1";
  const snap = new FakePublisher().tick([
    k,
    kline("ETHUSDT", "1m", T0, "3"),
    kline("SOLUSDT", "1m", T0, "4"),
  ]).snapshot;
  const text = renderTable(snap, { ...info, mode: "table", status: () => "worker-0: ok" });
  assert.match(text, /^demo\s+seq 1/);
  assert.match(text, /BTCUSDT\s+23:55:00\s+1\s+2\s+2\s+2\s+▲/);
  assert.equal(text.split("\n").filter((l) => /USDT/.test(l)).length, 2, "top 2 only");
  assert.match(text, /worker-0: ok\n$/);
});

test("line mode prints one line per new snapshot, never a repeat", async () => {
  const out: string[] = [];
  const view = new LiveView({ write: (t) => out.push(t) }, info, 10);
  const pub = new FakePublisher();
  view.start();
  view.handler(pub.tick([kline("BTCUSDT", "1m", T0, "1")]).snapshot);
  await new Promise((r) => setTimeout(r, 35));
  view.handler(pub.tick([kline("BTCUSDT", "1m", T0, "2")]).snapshot);
  view.stop();
  assert.deepEqual(
    out.map((l) => l.replace(/^\S+ \S+ /, "")),
    ["seq=1 1m: BTCUSDT=1\n", "seq=2 1m: BTCUSDT=2\n"],
  );
  assert.equal(renderLine(new FakePublisher().tick([]).snapshot, info).endsWith("(no klines yet)\n"), true);
});
