/**
 * Worker children: one StatefulSet per shard (replicas 1) behind one headless
 * Service. One StatefulSet per shard because each shard has its own symbols,
 * so its own config and config hash: a symbol move rolls only the shards it
 * touches, and changing the shard count adds or deletes whole StatefulSets
 * without re-rendering the others' pod identity.
 */
import type { V1Service, V1StatefulSet } from "@kubernetes/client-node";
import type { DefaultedSpec, KlineAggregator } from "../api/types.js";
import { renderWorkerEnv } from "./config.js";
import { childMeta, componentLabels, GRPC_PORT, METRICS_PORT, names, selectorLabels } from "./names.js";
import { grpcReadiness, metricsPort, podTemplate } from "./pod.js";

/** The StatefulSet of shard `shard`, which owns `symbols`. */
export function desiredStatefulSet(
  cr: KlineAggregator,
  spec: DefaultedSpec,
  shard: number,
  symbols: readonly string[],
): V1StatefulSet {
  const labels = componentLabels(cr, "worker", shard);
  const selector = selectorLabels(cr, "worker", shard);
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: childMeta(cr, names.workerStatefulSet(cr, shard), labels),
    spec: {
      replicas: 1,
      serviceName: names.workerService(cr),
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selector },
      updateStrategy: { type: "RollingUpdate" },
      template: podTemplate(cr, spec, {
        component: "worker",
        labels,
        selector: selectorLabels(cr, "worker"),
        env: renderWorkerEnv(cr, spec, shard, symbols),
        ports: [{ name: "grpc", containerPort: GRPC_PORT }, metricsPort],
        readiness: grpcReadiness(GRPC_PORT),
        resources: spec.resources?.worker,
      }),
    },
  };
}

/** Headless Service giving every worker pod a stable DNS name. */
export function desiredWorkerService(cr: KlineAggregator): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(cr, names.workerService(cr), componentLabels(cr, "worker")),
    spec: {
      clusterIP: "None",
      // Workers must be resolvable before they are ready: the gateway reports them as timing out instead.
      publishNotReadyAddresses: true,
      selector: selectorLabels(cr, "worker"),
      ports: [
        { name: "grpc", port: GRPC_PORT, targetPort: "grpc", protocol: "TCP" },
        { name: "metrics", port: METRICS_PORT, targetPort: "metrics", protocol: "TCP" },
      ],
    },
  };
}
