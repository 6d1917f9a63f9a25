/**
 * TypeScript shape of the KlineAggregator custom resource (klagg.io/v1alpha1).
 * The CRD in operator/crd/ is the schema the API server enforces; these types
 * mirror it, and `withDefaults` mirrors its defaults (a test compares both).
 */

export const GROUP = "klagg.io";
export const VERSION = "v1alpha1";
export const KIND = "KlineAggregator";
export const PLURAL = "klineaggregators";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Reference to one key of a Secret in the resource's namespace. */
export interface SecretRef {
  name: string;
  key: string;
}

/** Standard requests/limits; quantities as strings or integers. */
export interface Resources {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

/** Pod placement applied to every dataplane pod. */
export interface Placement {
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
  topologySpreadConstraints?: Record<string, unknown>[];
}

/** Desired state of one pipeline. */
export interface KlineAggregatorSpec {
  suspend?: boolean;
  symbols: string[];
  intervals?: string[];
  shards: number;
  timezone?: string;
  grace?: string;
  logLevel?: "debug" | "info" | "warn" | "error";
  source?: {
    exchange?: "binance" | "replay" | "synthetic";
    market?: "spot" | "usdm" | "coinm";
    endpoint?: string;
    tradeStream?: "trade" | "aggTrade";
    replayPath?: string;
  };
  gateway?: { tick?: string; pullDeadline?: string; timeoutAlertThreshold?: number };
  redis: { url: string; passwordSecretRef?: SecretRef };
  kafka: {
    brokers: string[];
    topic?: string;
    group?: string;
    sasl?: {
      mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
      usernameSecretRef: SecretRef;
      passwordSecretRef: SecretRef;
    };
  };
  clickhouse: { url: string; user?: string; passwordSecretRef?: SecretRef };
  /** Worker settings: `maxRetainedClosed` bounds the closed klines a worker holds until acked (176 B each). */
  worker?: { maxRetainedClosed?: number };
  writer?: { replicas?: number };
  image?: {
    repository?: string;
    tag?: string;
    pullPolicy?: "Always" | "IfNotPresent" | "Never";
    pullSecrets?: string[];
  };
  resources?: { worker?: Resources; gateway?: Resources; writer?: Resources };
  placement?: Placement;
  tracing?: { endpoint?: string; sampleRatio?: number };
}

/** One status condition (metav1.Condition). */
export interface Condition {
  type: ConditionType;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** The condition types the operator maintains. */
export type ConditionType =
  "Ready" | "WorkersReady" | "GatewayReady" | "WriterReady" | "Degraded" | "Suspended";

/** One row of the per-shard status table. */
export interface ShardStatus {
  index: number;
  statefulSet: string;
  symbols: number;
  readyReplicas: number;
  configHash: string;
  state: "Ready" | "Progressing" | "Pending" | "Empty";
}

/** Observed state written by the operator. */
export interface KlineAggregatorStatus {
  observedGeneration?: number;
  symbolCount?: number;
  readyShards?: number;
  assignmentConfigMap?: string;
  conditions?: Condition[];
  shards?: ShardStatus[];
}

/** Minimal object metadata the operator reads. */
export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

/** A KlineAggregator as read from the API server. */
export interface KlineAggregator {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: KlineAggregatorSpec;
  status?: KlineAggregatorStatus;
}

/** Spec with every CRD default applied (what the API server stores). */
export type DefaultedSpec = KlineAggregatorSpec & {
  suspend: boolean;
  intervals: string[];
  logLevel: NonNullable<KlineAggregatorSpec["logLevel"]>;
  source: Required<Pick<NonNullable<KlineAggregatorSpec["source"]>, "exchange" | "market" | "tradeStream">> &
    NonNullable<KlineAggregatorSpec["source"]>;
  gateway: Required<NonNullable<KlineAggregatorSpec["gateway"]>>;
  kafka: KlineAggregatorSpec["kafka"] & { topic: string };
  clickhouse: KlineAggregatorSpec["clickhouse"] & { user: string };
  worker: Required<NonNullable<KlineAggregatorSpec["worker"]>>;
  writer: Required<NonNullable<KlineAggregatorSpec["writer"]>>;
  image: Required<Pick<NonNullable<KlineAggregatorSpec["image"]>, "repository" | "tag" | "pullPolicy">> &
    NonNullable<KlineAggregatorSpec["image"]>;
};

/** Applies the CRD's defaults, so builders behave the same on objects that skipped API defaulting. */
export function withDefaults(spec: KlineAggregatorSpec): DefaultedSpec {
  return {
    ...spec,
    suspend: spec.suspend ?? false,
    intervals: spec.intervals ?? ["1s", "1m", "5m", "15m", "1h", "4h", "1d"],
    logLevel: spec.logLevel ?? "info",
    source: {
      ...spec.source,
      exchange: spec.source?.exchange ?? "binance",
      market: spec.source?.market ?? "spot",
      tradeStream: spec.source?.tradeStream ?? "trade",
    },
    gateway: {
      tick: spec.gateway?.tick ?? "100ms",
      pullDeadline: spec.gateway?.pullDeadline ?? "80ms",
      timeoutAlertThreshold: spec.gateway?.timeoutAlertThreshold ?? 3,
    },
    kafka: { ...spec.kafka, topic: spec.kafka.topic ?? "klagg.klines" },
    clickhouse: { ...spec.clickhouse, user: spec.clickhouse.user ?? "default" },
    worker: { maxRetainedClosed: spec.worker?.maxRetainedClosed ?? 2_000_000 },
    writer: { replicas: spec.writer?.replicas ?? 1 },
    image: {
      ...spec.image,
      repository: spec.image?.repository ?? "ghcr.io/klagg/dataplane",
      tag: spec.image?.tag ?? "0.1.0",
      pullPolicy: spec.image?.pullPolicy ?? "IfNotPresent",
    },
    tracing: spec.tracing ? { ...spec.tracing, sampleRatio: spec.tracing.sampleRatio ?? 0.01 } : undefined,
  };
}
