/**
 * `klagg gateway`: pulls every worker each tick, publishes snapshots to Redis
 * and klines to Kafka (see gateway/gateway.ts). Flags set the same keys as the
 * environment (docs/config.md); the environment is read here, once.
 * SIGINT/SIGTERM stop it gracefully: the newest snapshot is published and the
 * Kafka queue flushed, bounded by KLAGG_SHUTDOWN_FLUSH (a second signal exits at once).
 */
import { parseGatewayConfig } from "../../config/gateway.js";
import { createGateway } from "../../gateway/create.js";
import { formatUsage, type FlagSpecs, COMMON_FLAGS } from "../args.js";
import { parseServiceConfig, runService, withMetricsServer } from "../service.js";

/** The flags of `klagg gateway`, each setting one config key. */
export const GATEWAY_FLAGS: FlagSpecs = {
  name: { type: "string", env: "KLAGG_NAME", description: "Aggregator name (Redis keys klagg:<name>:...)." },
  workers: {
    type: "string",
    multiple: true,
    env: "KLAGG_WORKERS",
    valueName: "LIST",
    description: "Worker addresses host:port or name=host:port, comma separated.",
  },
  symbols: {
    type: "string",
    env: "KLAGG_SYMBOLS",
    valueName: "LIST",
    description: "All symbols (state layout).",
  },
  intervals: { type: "string", env: "KLAGG_INTERVALS", valueName: "LIST", description: "Kline intervals." },
  tick: { type: "string", env: "KLAGG_TICK", valueName: "DUR", description: "Tick period (default 100ms)." },
  "pull-deadline": {
    type: "string",
    env: "KLAGG_PULL_DEADLINE",
    valueName: "DUR",
    description: "Deadline of one pull (default tick/2).",
  },
  "timeout-alert-threshold": {
    type: "string",
    env: "KLAGG_TIMEOUT_ALERT_THRESHOLD",
    valueName: "N",
    description: "Consecutive failed pulls that raise the alert (default 5).",
  },
  "redis-url": {
    type: "string",
    env: "KLAGG_REDIS_URL",
    valueName: "URL",
    description: "redis://host:port.",
  },
  "kafka-brokers": {
    type: "string",
    env: "KLAGG_KAFKA_BROKERS",
    valueName: "LIST",
    description: "Kafka bootstrap brokers host:port.",
  },
  "kafka-topic": {
    type: "string",
    env: "KLAGG_KAFKA_TOPIC",
    valueName: "TOPIC",
    description: "Klines topic.",
  },
  "kafka-queue-limit": {
    type: "string",
    env: "KLAGG_KAFKA_QUEUE_LIMIT",
    valueName: "N",
    description: "Klines the Kafka hand-off queue holds.",
  },
  "shutdown-flush": {
    type: "string",
    env: "KLAGG_SHUTDOWN_FLUSH",
    valueName: "DUR",
    description: "Kafka flush bound on shutdown.",
  },
  ...COMMON_FLAGS,
};

const USAGE = formatUsage(
  "klagg gateway [options]",
  "Runs the gateway: pulls every worker each tick under a strict deadline, publishes the snapshot to\n" +
    "Redis and the changed klines to Kafka. Every flag sets the config key shown (see docs/config.md).",
  GATEWAY_FLAGS,
);

export async function run(argv: string[]): Promise<number> {
  const config = parseServiceConfig("gateway", argv, GATEWAY_FLAGS, USAGE, parseGatewayConfig);
  if (typeof config === "number") return config;
  return runService({ component: "gateway", common: config.common, instanceId: config.name }, (ctx) =>
    withMetricsServer(ctx, config.common, async (registry) => {
      const gateway = createGateway(config, { log: ctx.log, registry });
      gateway.start();
      await ctx.stopped;
      await gateway.stop();
      return 0;
    }),
  );
}
