/**
 * Gateway and writer Deployments and the gateway Service. The gateway is a
 * single replica with the Recreate strategy: two gateways would publish two
 * interleaved snapshot streams for the same name.
 */
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import type { DefaultedSpec, KlineAggregator } from "../api/types.js";
import { renderGatewayEnv, renderWriterEnv } from "./config.js";
import { childMeta, componentLabels, METRICS_PORT, names, selectorLabels } from "./names.js";
import { healthzReadiness, metricsPort, podTemplate } from "./pod.js";

/** The gateway Deployment. */
export function desiredGatewayDeployment(
  cr: KlineAggregator,
  spec: DefaultedSpec,
  shards: readonly number[],
): V1Deployment {
  const labels = componentLabels(cr, "gateway");
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMeta(cr, names.gateway(cr), labels),
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: selectorLabels(cr, "gateway") },
      template: podTemplate(cr, spec, {
        component: "gateway",
        labels,
        selector: selectorLabels(cr, "gateway"),
        env: renderGatewayEnv(cr, spec, shards),
        ports: [metricsPort],
        readiness: healthzReadiness(),
        resources: spec.resources?.gateway,
      }),
    },
  };
}

/** The gateway Service (metrics). */
export function desiredGatewayService(cr: KlineAggregator): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(cr, names.gateway(cr), componentLabels(cr, "gateway")),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(cr, "gateway"),
      ports: [{ name: "metrics", port: METRICS_PORT, targetPort: "metrics", protocol: "TCP" }],
    },
  };
}

/** The writer Deployment (replicas share one Kafka consumer group). */
export function desiredWriterDeployment(cr: KlineAggregator, spec: DefaultedSpec): V1Deployment {
  const labels = componentLabels(cr, "writer");
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMeta(cr, names.writer(cr), labels),
    spec: {
      replicas: spec.writer.replicas,
      selector: { matchLabels: selectorLabels(cr, "writer") },
      template: podTemplate(cr, spec, {
        component: "writer",
        labels,
        selector: selectorLabels(cr, "writer"),
        env: renderWriterEnv(cr, spec),
        ports: [metricsPort],
        readiness: healthzReadiness(),
        resources: spec.resources?.writer,
      }),
    },
  };
}
