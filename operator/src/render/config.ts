/**
 * The configuration the operator renders for each dataplane process, as the
 * container env list. Plain keys carry values; credentials are ONLY
 * `valueFrom.secretKeyRef`. `envToSource` turns the list back into the flat
 * map the dataplane parsers read at startup, so tests check both directions
 * with the same parser modules the binaries use.
 */
import { createHash } from "node:crypto";
import type { V1EnvVar } from "@kubernetes/client-node";
import type { DefaultedSpec, KlineAggregator, SecretRef } from "../api/types.js";
import { GRPC_PORT, METRICS_PORT, names, workerAddress } from "./names.js";

/** Env keys of credentials; they never carry a literal value. */
export const SECRET_KEYS = [
  "KLAGG_REDIS_PASSWORD",
  "KLAGG_KAFKA_SASL_USERNAME",
  "KLAGG_KAFKA_SASL_PASSWORD",
  "KLAGG_CLICKHOUSE_PASSWORD",
] as const;

function plain(name: string, value: string | number | undefined): V1EnvVar[] {
  return value === undefined || value === "" ? [] : [{ name, value: String(value) }];
}

function secret(name: string, ref: SecretRef | undefined): V1EnvVar[] {
  return ref ? [{ name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } }] : [];
}

/** Keys every process reads (logging, tracing, metrics). */
function commonEnv(spec: DefaultedSpec, service: string): V1EnvVar[] {
  return [
    ...plain("KLAGG_LOG_LEVEL", spec.logLevel),
    ...plain("KLAGG_METRICS_PORT", METRICS_PORT),
    ...plain("OTEL_SERVICE_NAME", service),
    ...plain("OTEL_EXPORTER_OTLP_ENDPOINT", spec.tracing?.endpoint),
    ...plain("KLAGG_TRACE_SAMPLE_RATIO", spec.tracing?.endpoint ? spec.tracing.sampleRatio : undefined),
  ];
}

function kafkaEnv(spec: DefaultedSpec): V1EnvVar[] {
  const sasl = spec.kafka.sasl;
  return [
    ...plain("KLAGG_KAFKA_BROKERS", spec.kafka.brokers.join(",")),
    ...plain("KLAGG_KAFKA_TOPIC", spec.kafka.topic),
    ...plain("KLAGG_KAFKA_SASL_MECHANISM", sasl?.mechanism),
    ...secret("KLAGG_KAFKA_SASL_USERNAME", sasl?.usernameSecretRef),
    ...secret("KLAGG_KAFKA_SASL_PASSWORD", sasl?.passwordSecretRef),
  ];
}

function sourceValue(spec: DefaultedSpec): string {
  return spec.source.exchange === "replay" ? `replay:${spec.source.replayPath ?? ""}` : spec.source.exchange;
}

/** Env of shard `shard`'s worker; `symbols` are the shard's symbols. */
export function renderWorkerEnv(
  cr: KlineAggregator,
  spec: DefaultedSpec,
  shard: number,
  symbols: readonly string[],
): V1EnvVar[] {
  return [
    ...plain("KLAGG_WORKER_NAME", names.workerStatefulSet(cr, shard)),
    ...plain("KLAGG_SYMBOLS", symbols.join(",")),
    ...plain("KLAGG_SHARD_INDEX", shard),
    ...plain("KLAGG_SHARD_COUNT", spec.shards),
    ...plain("KLAGG_INTERVALS", spec.intervals.join(",")),
    ...plain("KLAGG_SOURCE", sourceValue(spec)),
    ...plain("KLAGG_MARKET", spec.source.market),
    ...plain("KLAGG_BINANCE_WS_URL", spec.source.endpoint),
    ...plain("KLAGG_TRADE_STREAM", spec.source.tradeStream),
    ...plain("KLAGG_GRPC_PORT", GRPC_PORT),
    ...plain("KLAGG_GRACE", spec.grace),
    ...plain("KLAGG_TIMEZONE", spec.timezone),
    ...plain("KLAGG_MAX_RETAINED_CLOSED", spec.worker.maxRetainedClosed),
    ...commonEnv(spec, "klagg-worker"),
  ];
}

/**
 * Env of the gateway. `shards` are the indexes of the shards that run a
 * worker; each is listed as `name=address` (in-cluster DNS unless `address`
 * is given, e.g. 127.0.0.1 ports for a local contract test).
 */
export function renderGatewayEnv(
  cr: KlineAggregator,
  spec: DefaultedSpec,
  shards: readonly number[],
  address: (shard: number) => string = (i) => workerAddress(cr, i),
): V1EnvVar[] {
  const workers = shards.map((i) => `${names.workerStatefulSet(cr, i)}=${address(i)}`);
  return [
    ...plain("KLAGG_NAME", cr.metadata.name),
    ...plain("KLAGG_WORKERS", workers.join(",")),
    ...plain("KLAGG_TICK", spec.gateway.tick),
    ...plain("KLAGG_PULL_DEADLINE", spec.gateway.pullDeadline),
    ...plain("KLAGG_TIMEOUT_ALERT_THRESHOLD", spec.gateway.timeoutAlertThreshold),
    ...plain("KLAGG_SYMBOLS", spec.symbols.join(",")),
    ...plain("KLAGG_INTERVALS", spec.intervals.join(",")),
    ...plain("KLAGG_REDIS_URL", spec.redis.url),
    ...secret("KLAGG_REDIS_PASSWORD", spec.redis.passwordSecretRef),
    ...kafkaEnv(spec),
    ...commonEnv(spec, "klagg-gateway"),
  ];
}

/**
 * Env of the writer: the same Kafka keys as the gateway (both parse them with
 * dataplane/src/config/connections.ts), its group and ClickHouse; the contract
 * test checks the names against the writer's parser.
 */
export function renderWriterEnv(cr: KlineAggregator, spec: DefaultedSpec): V1EnvVar[] {
  return [
    ...kafkaEnv(spec),
    ...plain("KLAGG_WRITER_GROUP", spec.kafka.group ?? `klagg-writer-${cr.metadata.name}`),
    ...plain("KLAGG_CLICKHOUSE_URL", spec.clickhouse.url),
    ...plain("KLAGG_CLICKHOUSE_USER", spec.clickhouse.user),
    ...secret("KLAGG_CLICKHOUSE_PASSWORD", spec.clickhouse.passwordSecretRef),
    ...commonEnv(spec, "klagg-writer"),
  ];
}

/**
 * The flat map a process would see: literal values as they are, secret refs
 * resolved by `resolveSecret` (in tests: a placeholder or the real value).
 */
export function envToSource(
  env: readonly V1EnvVar[],
  resolveSecret: (ref: { name: string; key: string }) => string = (r) => `secret:${r.name}/${r.key}`,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) out[e.name] = resolveSecret({ name: ref.name ?? "", key: ref.key });
    else if (e.value !== undefined) out[e.name] = e.value;
  }
  return out;
}

/** Short stable hash of a rendered config (goes on the pod template; pods roll only when it changes). */
export function configHash(env: readonly V1EnvVar[]): string {
  return createHash("sha256").update(JSON.stringify(env)).digest("hex").slice(0, 16);
}
