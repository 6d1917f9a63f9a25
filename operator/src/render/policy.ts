/**
 * Supporting children: the dataplane ServiceAccount (no API token: the
 * dataplane never talks to Kubernetes), the shard-assignment ConfigMap,
 * PodDisruptionBudgets and NetworkPolicies.
 */
import type { V1ConfigMap, V1PodDisruptionBudget, V1ServiceAccount } from "@kubernetes/client-node";
import type { KlineAggregator } from "../api/types.js";
import {
  baseLabels,
  childMeta,
  componentLabels,
  GRPC_PORT,
  METRICS_PORT,
  names,
  selectorLabels,
  type Component,
} from "./names.js";

/**
 * NetworkPolicy as JSON. client-node's model renames `from` to `_from` (it is
 * meant for its serializer); this operator sends plain JSON, so its own type.
 */
interface IngressRule {
  from?: { podSelector: { matchLabels: Record<string, string> } }[];
  ports: { protocol: "TCP"; port: number }[];
}
export interface NetworkPolicy {
  apiVersion: "networking.k8s.io/v1";
  kind: "NetworkPolicy";
  metadata: ReturnType<typeof childMeta>;
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: ["Ingress"];
    ingress: IngressRule[];
  };
}

/** The ServiceAccount of every dataplane pod. */
export function desiredServiceAccount(cr: KlineAggregator): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: childMeta(cr, names.serviceAccount(cr), baseLabels(cr)),
    automountServiceAccountToken: false,
  };
}

/** The symbol-to-shard assignment: `assignment.json` plus one readable key per shard. */
export function desiredAssignmentConfigMap(cr: KlineAggregator, shards: readonly string[][]): V1ConfigMap {
  const data: Record<string, string> = {
    "assignment.json": JSON.stringify({ shardCount: shards.length, shards }),
  };
  shards.forEach((s, i) => (data[`shard-${i}`] = s.join(",")));
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMeta(cr, names.assignment(cr), baseLabels(cr)),
    data,
  };
}

/** At most one pod of a component down at a time by voluntary disruption. */
export function desiredPdb(cr: KlineAggregator, c: Component): V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: childMeta(cr, names.component(cr, c), componentLabels(cr, c)),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(cr, c) } },
  };
}

/**
 * Ingress policy of a component: workers accept gRPC only from this
 * resource's gateway; metrics are open to scrapers. Egress stays open
 * (exchange, Redis, Kafka, ClickHouse, DNS and the collector).
 */
export function desiredNetworkPolicy(cr: KlineAggregator, c: Component): NetworkPolicy {
  const ingress: IngressRule[] = [{ ports: [{ protocol: "TCP", port: METRICS_PORT }] }];
  if (c === "worker") {
    ingress.unshift({
      from: [{ podSelector: { matchLabels: selectorLabels(cr, "gateway") } }],
      ports: [{ protocol: "TCP", port: GRPC_PORT }],
    });
  }
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: childMeta(cr, names.component(cr, c), componentLabels(cr, c)),
    spec: { podSelector: { matchLabels: selectorLabels(cr, c) }, policyTypes: ["Ingress"], ingress },
  };
}
