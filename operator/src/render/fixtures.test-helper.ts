/** A fully specified KlineAggregator for unit tests (not a test file itself). */
import type { KlineAggregator } from "../api/types.js";

export function sampleCr(overrides: Partial<KlineAggregator["spec"]> = {}): KlineAggregator {
  return {
    apiVersion: "klagg.io/v1alpha1",
    kind: "KlineAggregator",
    metadata: { name: "spot", namespace: "markets", uid: "uid-1", generation: 3 },
    spec: {
      symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "TRXUSDT"],
      shards: 3,
      intervals: ["1s", "1m", "1h"],
      source: { exchange: "binance", market: "spot", tradeStream: "trade" },
      gateway: { tick: "100ms", pullDeadline: "80ms", timeoutAlertThreshold: 3 },
      redis: { url: "redis://redis:6379", passwordSecretRef: { name: "redis", key: "password" } },
      kafka: {
        brokers: ["kafka-0:9092", "kafka-1:9092"],
        topic: "klagg.klines",
        sasl: {
          mechanism: "scram-sha-512",
          usernameSecretRef: { name: "kafka", key: "user" },
          passwordSecretRef: { name: "kafka", key: "password" },
        },
      },
      clickhouse: {
        url: "http://clickhouse:8123",
        user: "klagg",
        passwordSecretRef: { name: "ch", key: "pw" },
      },
      tracing: { endpoint: "http://jaeger:4318", sampleRatio: 0.5 },
      resources: { worker: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } } },
      placement: {
        nodeSelector: { pool: "markets" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "markets", effect: "NoSchedule" }],
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" },
        ],
      },
      ...overrides,
    },
  };
}
