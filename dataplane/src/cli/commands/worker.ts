/**
 * `klagg worker`: runs one worker (see worker/worker-process.ts). Flags set
 * the same keys as the environment (docs/config.md); the environment is read
 * here, once. SIGINT/SIGTERM stop it gracefully (a second signal exits at once).
 */
import { parseWorkerConfig } from "../../config/worker.js";
import { WorkerProcess } from "../../worker/worker-process.js";
import { formatUsage, type FlagSpecs, COMMON_FLAGS } from "../args.js";
import { parseServiceConfig, runService } from "../service.js";

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
  const config = parseServiceConfig("worker", argv, WORKER_FLAGS, USAGE, parseWorkerConfig);
  if (typeof config === "number") return config;
  return runService(
    { component: "worker", common: config.common, instanceId: config.workerName },
    async (ctx) => {
      // The worker serves its own metrics and health: both follow its lifecycle (draining included).
      const worker = new WorkerProcess({ config, log: ctx.log });
      await worker.start(ctx.signal);
      await worker.done;
      return worker.failed ? 1 : 0;
    },
  );
}
