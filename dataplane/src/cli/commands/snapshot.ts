/**
 * `klagg snapshot`: prints the latest snapshot stored in Redis.
 *
 *   klagg snapshot --redis URL [--name N] [--symbol S] [--interval I] [--format table|csv|json] [--market M]
 *
 * CSV columns: symbol, interval, Binance's 12 kline columns in Binance's order,
 * closed (see `scheduler/snapshot-format.ts`). Exit codes: 0 printed, 1 no
 * snapshot stored or Redis unreachable, 2 bad usage.
 */
import type { Market } from "../../core/kline-csv.js";
import { createLogger } from "../../obs/log.js";
import { RedisSnapshotBus, redactRedisUrl } from "../../scheduler/redis-bus.js";
import { snapshotKey } from "../../scheduler/snapshot-bus.js";
import {
  formatCsv,
  formatJson,
  formatTable,
  formatUtc,
  selectKlines,
  toRecords,
} from "../../scheduler/snapshot-format.js";
import { ArgsError, formatUsage, parseArgs, type FlagSpecs } from "../args.js";

const FLAGS: FlagSpecs = {
  redis: {
    type: "string",
    valueName: "URL",
    description: "Redis URL (default: $KLAGG_REDIS_URL, then $REDIS_URL).",
  },
  name: {
    type: "string",
    valueName: "N",
    description: 'Aggregator name: reads klagg:<N>:snapshot (default "local").',
  },
  symbol: { type: "string", valueName: "S", description: "Only this symbol." },
  interval: { type: "string", valueName: "I", description: "Only this interval (1s 1m ... 1M)." },
  format: { type: "string", valueName: "F", description: "table (default), csv or json." },
  market: {
    type: "string",
    valueName: "M",
    description: "CSV number format of Binance's files: spot (8 decimals) or usdm/coinm (exact, default).",
  },
};

const USAGE = formatUsage(
  "klagg snapshot --redis URL [--name N] [--symbol S] [--interval I] [--format table|csv|json]",
  "Prints the latest snapshot the gateway stored in Redis.\n" +
    "CSV columns: symbol,interval, then Binance's 12 kline columns in Binance's order, then closed.",
  FLAGS,
);

/** Entry point of `klagg snapshot`. */
export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, FLAGS);
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`klagg snapshot: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const fail = (msg: string): number => {
    process.stderr.write(`klagg snapshot: ${msg}\n\n${USAGE}`);
    return 2;
  };
  if (args.positionals.length > 0) return fail(`unexpected argument "${args.positionals[0]}"`);
  const url = args.get("redis") ?? process.env.KLAGG_REDIS_URL ?? process.env.REDIS_URL;
  if (url === undefined || url === "") return fail("--redis URL is required");
  if (!/^rediss?:\/\/\S+$/.test(url)) return fail(`--redis "${url}" is not a redis:// URL`);
  const format = args.get("format") ?? "table";
  if (!["table", "csv", "json"].includes(format))
    return fail(`--format "${format}" is not table, csv or json`);
  const market = args.get("market") ?? "usdm";
  if (!["spot", "usdm", "coinm"].includes(market))
    return fail(`--market "${market}" is not spot, usdm or coinm`);
  const name = args.get("name") ?? "local";
  const symbol = args.get("symbol");
  const interval = args.get("interval");

  const log = createLogger("snapshot", { level: "error" });
  const bus = new RedisSnapshotBus({ url, name, log });
  try {
    let snap;
    try {
      snap = await bus.getLatest();
    } catch (err) {
      process.stderr.write(
        `klagg snapshot: cannot read ${snapshotKey(name)} from ${redactRedisUrl(url)}: ${(err as Error).message}\n`,
      );
      return 1;
    }
    if (snap === undefined) {
      process.stderr.write(
        `klagg snapshot: no snapshot at ${snapshotKey(name)} (is a gateway named "${name}" running?)\n`,
      );
      return 1;
    }
    let bad = 0;
    const records = toRecords(selectKlines(snap, { symbol, interval }), () => bad++);
    if (bad > 0) process.stderr.write(`klagg snapshot: skipped ${bad} kline(s) with an unknown interval\n`);
    if (format === "csv") process.stdout.write(formatCsv(records, market as Market));
    else if (format === "json") process.stdout.write(formatJson(snap, records));
    else {
      process.stdout.write(
        `${snap.aggregator || name}  seq ${snap.seq}  ${formatUtc(Number(snap.time))} UTC  ${records.length} of ${snap.klines.length} klines\n\n`,
      );
      process.stdout.write(formatTable(records));
    }
    return 0;
  } finally {
    await bus.close();
  }
}
