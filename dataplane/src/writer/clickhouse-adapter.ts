/**
 * ClickHouse adapter of the writer: the only writer file that imports
 * `@clickhouse/client`. It detects the server version, applies the versioned
 * migrations of `schema.ts`, and inserts pre-encoded TabSeparated rows.
 *
 * Works on ClickHouse 18.16 (Debian) and current releases: it only uses the
 * HTTP interface features both have (plain queries, `INSERT ... FORMAT
 * TabSeparated` bodies, `/ping`). See docs/clickhouse.md.
 */
import { Readable } from "node:stream";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { KLINE_COLUMNS } from "./row.js";
import {
  checkIdentifier,
  migrationsTableDdl,
  MIGRATIONS,
  parseServerVersion,
  pendingMigrations,
} from "./schema.js";
import type { Migration } from "./schema.js";

/** The writer's view of its row store (a port, so the writer loop is testable without ClickHouse). */
export interface RowSink {
  /** Creates or migrates the schema; idempotent. Returns the server version string. */
  prepare(): Promise<string>;
  /** Inserts TabSeparated lines (one row each) in one INSERT; rejects on any failure. */
  insert(lines: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Connection settings of {@link ClickHouseSink}. */
export interface ClickHouseOptions {
  /** e.g. http://127.0.0.1:18123 (credentials may be in the URL or below). */
  readonly url: string;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
  /** Per-request timeout; an INSERT that takes longer is retried by the writer. */
  readonly requestTimeoutMs: number;
}

/** Oldest server this schema and client usage were verified on. */
export const MIN_SERVER_VERSION: readonly [number, number] = [18, 16];

/** The {@link RowSink} on a real ClickHouse server. */
export class ClickHouseSink implements RowSink {
  private readonly client: ClickHouseClient;
  private readonly db: string;
  private readonly insertSql: string;

  constructor(opts: ClickHouseOptions) {
    this.db = checkIdentifier(opts.database);
    this.client = createClient({
      url: opts.url,
      username: opts.username,
      password: opts.password,
      request_timeout: opts.requestTimeoutMs,
      application: "klagg-writer",
      // 18.16 predates several settings the client can send; keep requests plain.
      compression: { request: false, response: false },
      // An INSERT a second after the last one must not pick a socket the server already closed.
      keep_alive: { enabled: true, eagerly_destroy_stale_sockets: true },
    });
    this.insertSql = `INSERT INTO ${this.db}.klines (${KLINE_COLUMNS.map((c) => "`" + c + "`").join(", ")}) FORMAT TabSeparated`;
  }

  async prepare(): Promise<string> {
    const version = await this.serverVersion();
    const parsed = parseServerVersion(version);
    if (parsed === undefined || compare(parsed, MIN_SERVER_VERSION) < 0) {
      throw new Error(`ClickHouse ${version} is older than the supported ${MIN_SERVER_VERSION.join(".")}`);
    }
    for (const sql of migrationsTableDdl(this.db)) await this.command(sql);
    const applied = await this.appliedVersion();
    for (const m of pendingMigrations(applied, MIGRATIONS)) await this.apply(m);
    return version;
  }

  /** The highest applied migration version (0 when none). */
  async appliedVersion(): Promise<number> {
    const text = await this.queryText(
      `SELECT max(version) FROM ${this.db}.schema_migrations FORMAT TabSeparated`,
    );
    return Number(text.trim() || "0");
  }

  async serverVersion(): Promise<string> {
    return (await this.queryText("SELECT version() FORMAT TabSeparated")).trim();
  }

  async insert(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const body = lines.join("\n") + "\n";
    await this.client.exec({ query: this.insertSql, values: Readable.from([body]) }).then(drain);
  }

  /** Runs a statement that returns no rows. */
  async command(sql: string): Promise<void> {
    await this.client.command({ query: sql });
  }

  /** Runs a query whose SQL carries its own FORMAT clause and returns the raw response text. */
  async queryText(sql: string): Promise<string> {
    const res = await this.client.exec({ query: sql });
    const chunks: Buffer[] = [];
    for await (const c of res.stream as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks).toString("utf8");
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async apply(m: Migration): Promise<void> {
    for (const sql of m.statements(this.db)) await this.command(sql);
    const desc = m.description.replace(/\\/g, "\\\\").replace(/'/g, "\\'");
    await this.command(
      `INSERT INTO ${this.db}.schema_migrations (version, description, applied_at) ` +
        `VALUES (${m.version}, '${desc}', now())`,
    );
  }
}

async function drain(res: { stream: NodeJS.ReadableStream }): Promise<void> {
  for await (const _ of res.stream as AsyncIterable<unknown>) {
    // An INSERT answers with an empty body; reading it releases the socket.
  }
}

function compare(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
