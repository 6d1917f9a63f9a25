#!/usr/bin/env node
/**
 * The `klagg` command line. Each subcommand lives in `commands/<name>.ts` and
 * exports `run(argv)`; they are imported lazily so `klagg aggregate` never
 * loads gRPC, Kafka or Redis clients.
 */
const COMMANDS: Record<string, string> = {
  aggregate: "Aggregate trade files into Binance kline CSVs (offline).",
  worker: "Run one worker: ingest trades for a shard of symbols, serve pulls over gRPC.",
  gateway: "Run the gateway: pull workers every tick, publish snapshots to Redis, klines to Kafka.",
  writer: "Run the ClickHouse writer: consume klines from Kafka, upsert in large batches.",
  local: "Run workers, gateway (and writer) on this machine; `make demo` uses it.",
  snapshot: "Print the latest snapshot from Redis.",
};

/** The contract of a subcommand module. */
export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, d]) => `  ${n.padEnd(10)} ${d}`);
  return `usage: klagg <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'klagg <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(usage() + "\n");
    return cmd === undefined ? 2 : 0;
  }
  if (!(cmd in COMMANDS)) {
    process.stderr.write(`klagg: unknown command "${cmd}"\n\n${usage()}\n`);
    return 2;
  }
  const mod = (await import(`./commands/${cmd}.js`)) as CommandModule;
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`klagg: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
