/**
 * `klagg worker`: runs one worker (see worker/worker-process.ts). Flags set
 * the same keys as the environment (docs/config.md); the environment is read
 * here, once. SIGINT/SIGTERM stop it gracefully (a second signal exits at once).
 */
import { ConfigError } from "../../config/parse.js";
import { parseWorkerConfig } from "../../config/worker.js";
import { createLogger } from "../../obs/log.js";
import { startTracing } from "../../obs/tracing.js";
import { WorkerProcess } from "../../worker/worker-process.js";
import { ArgsError, formatUsage, parseArgs, toConfigSource, type FlagSpecs, COMMON_FLAGS } from "../args.js";

/** The flags of `klagg worker`, each setting one config key. */
export const WORKER_FLAGS: FlagSpecs = {
  name: { type: "string", env: "KLAGG_WORKER_NAME", description: "Worker name reported to the gateway." },
  symbols: {
    type: "string",
    env: "KLAGG_SYMBOLS",
    valueName: "LIST",
    description: "All symbols, comma separated.",
  },
  "shard-index": {
    type: "string",
    env: "KLAGG_SHARD_INDEX",
    valueName: "N",
    description: "This worker's shard.",
  },
  "shard-count": {
    type: "string",
    env: "KLAGG_SHARD_COUNT",
    valueName: "N",
    description: "Number of shards.",
  },
  intervals: { type: "string", env: "KLAGG_INTERVALS", valueName: "LIST", description: "Kline intervals." },
  source: {
    type: "string",
    multiple: true,
    env: "KLAGG_SOURCE",
    valueName: "SRC",
    description: "binance | synthetic | replay:FILE[,FILE].",
  },
  market: { type: "string", env: "KLAGG_MARKET", description: "spot | usdm | coinm." },
  "binance-ws-url": {
    type: "string",
    env: "KLAGG_BINANCE_WS_URL",
    valueName: "URL",
    description: "WebSocket base URL.",
  },
  "trade-stream": { type: "string", env: "KLAGG_TRADE_STREAM", description: "trade | aggTrade." },
  "replay-speed": {
    type: "string",
    env: "KLAGG_REPLAY_SPEED",
    valueName: "X",
    description: "Replay pace; 0 = max.",
  },
  "synthetic-seed": {
    type: "string",
    env: "KLAGG_SYNTHETIC_SEED",
    valueName: "N",
    description: "Synthetic seed.",
  },
  "synthetic-rate": {
    type: "string",
    env: "KLAGG_SYNTHETIC_RATE",
    valueName: "N",
    description: "Synthetic trades/s.",
  },
  "grpc-host": { type: "string", env: "KLAGG_GRPC_HOST", valueName: "HOST", description: "gRPC interface." },
  "grpc-port": {
    type: "string",
    env: "KLAGG_GRPC_PORT",
    valueName: "PORT",
    description: "gRPC port (0 = any).",
  },
  grace: { type: "string", env: "KLAGG_GRACE", valueName: "DUR", description: "Late-trade grace period." },
  drain: { type: "string", env: "KLAGG_DRAIN", valueName: "DUR", description: "Shutdown drain period." },
  "empty-klines": {
    type: "string",
    env: "KLAGG_EMPTY_KLINES",
    valueName: "BOOL",
    description: "Emit empty klines.",
  },
  timezone: {
    type: "string",
    env: "KLAGG_TIMEZONE",
    valueName: "OFFSET",
    description: "Offset for 1d+ klines.",
  },
  ...COMMON_FLAGS,
};

const USAGE = formatUsage(
  "klagg worker [options]",
  "Runs one worker: ingests trades for its shard of symbols and serves klagg.v1.WorkerService/Pull\n" +
    "over gRPC. Every flag sets the config key shown (see docs/config.md); flags win over the environment.",
  WORKER_FLAGS,
);

export async function run(argv: string[]): Promise<number> {
  let config;
  try {
    const args = parseArgs(argv, WORKER_FLAGS);
    if (args.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.positionals.length > 0) throw new ArgsError(`unexpected argument "${args.positionals[0]}"`);
    config = parseWorkerConfig(toConfigSource(args, WORKER_FLAGS, process.env));
  } catch (err) {
    if (err instanceof ArgsError || err instanceof ConfigError) {
      process.stderr.write(`klagg worker: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger("worker", { level: config.common.logLevel });
  const shutdownTracing = startTracing({
    serviceName: "klagg-worker",
    endpoint: config.common.otlpEndpoint,
    sampleRatio: config.common.traceSampleRatio,
    attributes: { "service.instance.id": config.workerName },
  });
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn("second signal: exiting without draining", { signal: sig });
      process.exit(130);
    }
    log.info("signal received, stopping", { signal: sig });
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const worker = new WorkerProcess({ config, log });
    await worker.start(stop.signal);
    await worker.done;
    return worker.failed ? 1 : 0;
  } catch (err) {
    log.error("worker failed", { err });
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await shutdownTracing().catch((err: unknown) => log.warn("trace flush failed", { err }));
  }
}
