import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkIdentifier,
  MIGRATIONS,
  parseServerVersion,
  pendingMigrations,
  type Migration,
} from "./schema.js";

test("migration versions are unique and increasing from 1", () => {
  MIGRATIONS.forEach((m, i) => assert.equal(m.version, i + 1));
});

test("pending migrations are those above the applied version, in order", () => {
  const all: Migration[] = [3, 1, 2].map((version) => ({ version, description: "", statements: () => [] }));
  assert.deepEqual(
    pendingMigrations(1, all).map((m) => m.version),
    [2, 3],
  );
  assert.deepEqual(pendingMigrations(3, all), []);
});

test("the klines table is a versioned ReplacingMergeTree keyed by symbol, interval and open time, monthly, exact decimals", () => {
  const sql = MIGRATIONS[0]!.statements("klagg").join("\n");
  assert.match(sql, /CREATE TABLE IF NOT EXISTS klagg\.klines/);
  assert.match(sql, /ENGINE = ReplacingMergeTree\(version\)/);
  assert.match(sql, /PARTITION BY toYYYYMM\(open_time\)/);
  assert.match(sql, /ORDER BY \(symbol, interval_id, open_time\)/);
  assert.doesNotMatch(sql, /Float/);
  assert.equal(sql.match(/Decimal\(38, 16\)/g)?.length, 8);
});

test("identifiers that could inject SQL are refused", () => {
  assert.equal(checkIdentifier("klagg_test1"), "klagg_test1");
  for (const bad of ["", "1abc", "a.b", "x; DROP TABLE y", "a-b"]) assert.throws(() => checkIdentifier(bad));
});

test("server versions parse to major and minor, old and new", () => {
  assert.deepEqual(parseServerVersion("18.16.1"), [18, 16]);
  assert.deepEqual(parseServerVersion("24.8.4.13\n"), [24, 8]);
  assert.equal(parseServerVersion("unknown"), undefined);
});

test("no migration names the keyword column interval in an expression (18.16 could not reload it)", () => {
  for (const m of MIGRATIONS) {
    for (const sql of m.statements("klagg")) {
      const outsideColumns = sql.replace(/`interval` String,/g, "");
      assert.doesNotMatch(outsideColumns, /\binterval\b(?!_id)/i, sql);
    }
  }
});
