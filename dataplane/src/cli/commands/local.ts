/**
 * `klagg local`: workers (subprocesses), gateway and optionally the writer on
 * this machine, with a live kline view. `make demo` runs it on the synthetic
 * market. Ctrl-C / SIGTERM stop everything gracefully; a second signal kills
 * the workers and exits at once.
 */
import { fileURLToPath } from "node:url";
import { createLogger, type LogLevel } from "../../obs/log.js";
import { localOptions, LOCAL_FLAGS } from "../../local/local-options.js";
import { LocalRun } from "../../local/local-run.js";
import { ArgsError, formatUsage, parseArgs } from "../args.js";

const USAGE = formatUsage(
  "klagg local [--source synthetic|binance|replay:FILE[,FILE]] [--workers N] [--redis URL] [--kafka BROKERS] ...",
  "Runs N workers (separate processes), the gateway and, with --clickhouse and --kafka, the writer on this\n" +
    "machine, and shows live klines. Without --redis, snapshots go to an in-process bus.",
  LOCAL_FLAGS,
);

/** Entry point of `klagg local`. */
export async function run(argv: string[]): Promise<number> {
  let opts;
  try {
    const args = parseArgs(argv, LOCAL_FLAGS);
    if (args.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    opts = localOptions(args, process.stdout.isTTY === true);
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`klagg local: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const level = (
    ["debug", "info", "warn", "error"].includes(opts.logLevel) ? opts.logLevel : "warn"
  ) as LogLevel;
  // Under the refreshing table, log lines would scroll it away: keep the last few and show them below it.
  const recent: string[] = [];
  const tableMode = opts.view === "table";
  const emit = (line: string): void => {
    if (!tableMode) {
      process.stderr.write(line + "\n");
      return;
    }
    recent.push(line);
    if (recent.length > 5) recent.shift();
  };
  const log = createLogger("local", { level, sink: emit });
  const stop = new AbortController();
  let signals = 0;
  let runRef: LocalRun | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      process.stderr.write(`klagg local: second ${sig}: killing workers and exiting now\n`);
      runRef?.killAll();
      process.exit(130);
    }
    process.stderr.write(`klagg local: ${sig} received, stopping (again to force)\n`);
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    runRef = new LocalRun(opts, {
      nodePath: process.execPath,
      workerEntry: fileURLToPath(new URL("../../local/worker-entry.js", import.meta.url)),
      env: process.env,
      log,
      childLine: emit,
      recentLogs: () => recent.map((l) => l.slice(0, (process.stdout.columns ?? 160) - 1)),
      viewOut: { write: (t) => void process.stdout.write(t) },
    });
    return await runRef.run(stop.signal);
  } finally {
    // The table is gone from view now; keep the last log lines visible.
    if (tableMode && recent.length > 0) process.stderr.write(`last log lines:\n${recent.join("\n")}\n`);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
