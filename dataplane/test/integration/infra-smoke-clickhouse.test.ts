/**
 * Smoke test of the local ClickHouse (Debian's 18.16) through @clickhouse/client, the client the writer
 * uses: create a table, insert rows, select them back. Reads CLICKHOUSE_URL only.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { createClient, type ClickHouseClient } from "@clickhouse/client";

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run under \`deploy/local/klagg-infra with-infra -- ...\``);
  return v;
}

const table = `smoke_${process.pid}_${Date.now()}`;
let ch: ClickHouseClient;

before(() => {
  ch = createClient({ url: requireEnv("CLICKHOUSE_URL"), request_timeout: 10_000 });
});

after(async () => {
  await ch?.command({ query: `DROP TABLE IF EXISTS ${table}` }).catch(() => undefined);
  await ch?.close();
});

test("the server answers a ping and reports its version", async () => {
  const ping = await ch.ping();
  assert.equal(ping.success, true);
  const rs = await ch.query({ query: "SELECT version() AS v", format: "JSONEachRow" });
  const rows = await rs.json<{ v: string }>();
  assert.match(rows[0]?.v ?? "", /^\d+\.\d+/);
});

test("rows inserted as JSONEachRow into a new MergeTree table are selected back", async () => {
  await ch.command({
    query: `CREATE TABLE ${table} (symbol String, open_time UInt64, close Decimal(38, 18))
            ENGINE = MergeTree ORDER BY (symbol, open_time)`,
  });
  // ClickHouse 18.16 parses a JSON decimal only as an unquoted number, so this row carries none.
  await ch.insert({
    table,
    values: [{ symbol: "SOLUSDT", open_time: 1_723_161_300_000 }],
    format: "JSONEachRow",
  });
  const rs = await ch.query({
    query: `SELECT symbol, toString(open_time) AS t FROM ${table} WHERE symbol = 'SOLUSDT'`,
    format: "JSONEachRow",
  });
  assert.deepEqual(await rs.json<{ symbol: string; t: string }>(), [
    { symbol: "SOLUSDT", t: "1723161300000" },
  ]);
});

test("exact decimals inserted as TabSeparated text are selected back digit for digit", async () => {
  // 18.16 rejects a quoted decimal in JSONEachRow ("Cannot parse input: expected ,"); text formats are exact.
  const lines = ["BTCUSDT\t1723161300000\t61234.123456789012345678\n", "ETHUSDT\t1723161300000\t2650.5\n"];
  await ch.insert({ table, values: Readable.from(lines, { objectMode: false }), format: "TabSeparated" });
  const rs = await ch.query({
    query: `SELECT symbol, toString(open_time) AS open_time, toString(close) AS close FROM ${table}
            WHERE symbol != 'SOLUSDT' ORDER BY symbol`,
    format: "JSONEachRow",
  });
  const got = await rs.json<{ symbol: string; open_time: string; close: string }>();
  assert.deepEqual(
    got.map((r) => [r.symbol, r.open_time, r.close]),
    [
      ["BTCUSDT", "1723161300000", "61234.123456789012345678"],
      ["ETHUSDT", "1723161300000", "2650.500000000000000000"],
    ],
  );
});
