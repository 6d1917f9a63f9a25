/**
 * The versioned schema of the writer's ClickHouse database. Pure: statements
 * only; `clickhouse-adapter.ts` runs them and records each applied version in
 * `<db>.schema_migrations`.
 *
 * Every statement is idempotent (IF NOT EXISTS), so two writers starting at
 * once, or a writer killed half way through a migration, converge on the same
 * schema. New migrations are appended with the next version; applied ones are
 * never edited. See docs/clickhouse.md for the column choices.
 *
 * Never write the column name `interval` in an expression here (ORDER BY,
 * DEFAULT, ...): ClickHouse 18.16 saves expressions unquoted in its metadata
 * and `interval` is a keyword, so the table would not load after a restart.
 */

/** One schema migration. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  /** Statements in order; `db` is the database name (validated identifier). */
  statements(db: string): string[];
}

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Throws unless `name` is a plain identifier safe to splice into SQL. */
export function checkIdentifier(name: string): string {
  if (!IDENT_RE.test(name)) throw new Error(`invalid ClickHouse identifier ${JSON.stringify(name)}`);
  return name;
}

/** The bookkeeping table, created before anything else. */
export function migrationsTableDdl(db: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, description String, ` +
      `applied_at DateTime('UTC')) ENGINE = ReplacingMergeTree ORDER BY version`,
  ];
}

/** All migrations, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      "klines: ReplacingMergeTree(version) by (symbol, interval_id, open_time), monthly partitions",
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.klines (
  symbol String,
  \`interval\` String,
  open_time DateTime('UTC'),
  close_time UInt64,
  open Decimal(38, 16),
  high Decimal(38, 16),
  low Decimal(38, 16),
  close Decimal(38, 16),
  volume Decimal(38, 16),
  quote_volume Decimal(38, 16),
  trades UInt64,
  taker_buy_volume Decimal(38, 16),
  taker_buy_quote_volume Decimal(38, 16),
  first_trade_id Int64,
  last_trade_id Int64,
  closed UInt8,
  version UInt64,
  interval_id UInt8
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(open_time)
ORDER BY (symbol, interval_id, open_time)`,
    ],
  },
];

/** The migrations still to apply after `applied` (the highest applied version, 0 for none). */
export function pendingMigrations(applied: number, all: readonly Migration[] = MIGRATIONS): Migration[] {
  return all.filter((m) => m.version > applied).sort((a, b) => a.version - b.version);
}

/** Parses "18.16.1" or "24.8.4.13" into [major, minor]; undefined when unparsable. */
export function parseServerVersion(v: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
