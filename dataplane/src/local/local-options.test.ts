import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs } from "../cli/args.js";
import { localOptions, LOCAL_FLAGS } from "./local-options.js";
import { planWorkers } from "./local-run.js";

const parse = (argv: string[], tty = false) => localOptions(parseArgs(argv, LOCAL_FLAGS), tty);

test("defaults run the synthetic market on 2 workers with all intervals and an in-process bus", () => {
  const o = parse([]);
  assert.equal(o.sourceKind, "synthetic");
  assert.equal(o.workers, 2);
  assert.equal(o.symbols.length, 10);
  assert.equal(o.intervals.length, 16);
  assert.equal(o.redisUrl, undefined);
  assert.equal(o.view, "lines");
  assert.equal(parse([], true).view, "table");
  assert.equal(o.viewInterval, "1m");
});

test("a replay defaults to BTCUSDT and accepts --exit-when-done", () => {
  const o = parse(["--source", "replay:a.gz,b.gz", "--exit-when-done", "--intervals", "5m,1m"]);
  assert.equal(o.sourceKind, "replay");
  assert.deepEqual(o.symbols, ["BTCUSDT"]);
  assert.deepEqual(o.intervals, ["1m", "5m"]);
  assert.equal(o.exitWhenDone, true);
});

test("invalid combinations and values are refused with the flag named", () => {
  assert.throws(() => parse(["--source", "kraken"]), /--source "kraken"/);
  assert.throws(() => parse(["--source", "replay:"]), /--source/);
  assert.throws(() => parse(["--workers", "0"]), /--workers "0"/);
  assert.throws(() => parse(["--intervals", "7m"]), /"7m" is not an interval/);
  assert.throws(() => parse(["--clickhouse", "http://x:8123"]), /--clickhouse needs --kafka/);
  assert.throws(() => parse(["--exit-when-done"]), /only makes sense with --source replay/);
  assert.throws(() => parse(["--symbols", "A,A"]), /repeated/);
  assert.throws(() => parse(["--intervals", "1h", "--view-interval", "1m"]), /--view-interval "1m"/);
  assert.throws(() => parse(["stray"]), /unexpected argument/);
});

test("workers are planned over every shard that owns a symbol; empty shards are left out", () => {
  const { plans, empty } = planWorkers(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"], 2);
  assert.deepEqual(plans.flatMap((p) => p.symbols).sort(), ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]);
  assert.equal(plans.length + empty.length, 2);
  const single = planWorkers(["BTCUSDT"], 3);
  assert.equal(single.plans.length, 1);
  assert.deepEqual(single.plans[0]?.symbols, ["BTCUSDT"]);
  assert.equal(single.empty.length, 2);
});
