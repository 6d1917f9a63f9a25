/**
 * The pod template shared by every dataplane component: restricted security
 * context, read-only root filesystem with an emptyDir /tmp, the CR's image and
 * placement, and the config-hash annotation that rolls pods when (and only
 * when) their own config changes.
 */
import type {
  V1Container,
  V1EnvVar,
  V1PodTemplateSpec,
  V1Probe,
  V1ResourceRequirements,
} from "@kubernetes/client-node";
import type { DefaultedSpec, KlineAggregator, Resources } from "../api/types.js";
import { CONFIG_HASH_ANNOTATION, METRICS_PORT, names, type Component } from "./names.js";
import { configHash } from "./config.js";

/** UID/GID of the dataplane image's non-root user. */
export const DATAPLANE_UID = 10001;

/** Inputs of one component's pod template. */
export interface PodInput {
  component: Component;
  labels: Record<string, string>;
  selector: Record<string, string>;
  env: V1EnvVar[];
  ports: { name: string; containerPort: number }[];
  /** How Kubernetes tells that this component can take work (see the probe builders below). */
  readiness: V1Probe;
  resources?: Resources;
}

function resources(r: Resources | undefined): V1ResourceRequirements | undefined {
  if (!r || (!r.requests && !r.limits)) return undefined;
  const out: V1ResourceRequirements = {};
  // Quantities go out as strings, the form the API server stores them in.
  if (r.requests)
    out.requests = Object.fromEntries(Object.entries(r.requests).map(([k, v]) => [k, String(v)]));
  if (r.limits) out.limits = Object.fromEntries(Object.entries(r.limits).map(([k, v]) => [k, String(v)]));
  return out;
}

const READINESS_TIMING = { periodSeconds: 5, failureThreshold: 3 } as const;

/**
 * Readiness through the standard gRPC health service (the whole-server "" entry): the worker turns it
 * SERVING after start and NOT_SERVING while it drains, which an open TCP port cannot express.
 */
export function grpcReadiness(port: number): V1Probe {
  return { grpc: { port }, ...READINESS_TIMING };
}

/** Readiness through the metrics server's /healthz (503 before start and during shutdown). */
export function healthzReadiness(): V1Probe {
  return { httpGet: { path: "/healthz", port: "metrics" }, ...READINESS_TIMING };
}

/**
 * Liveness is only "the process still answers": a TCP connect to the metrics port. It must not follow
 * readiness, or a pod draining on purpose (NOT_SERVING, /healthz 503) would be killed mid-drain.
 */
const LIVENESS: V1Probe = { tcpSocket: { port: "metrics" }, periodSeconds: 10, failureThreshold: 6 };

/** Builds the pod template of one component. */
export function podTemplate(cr: KlineAggregator, spec: DefaultedSpec, p: PodInput): V1PodTemplateSpec {
  const container: V1Container = {
    name: p.component,
    image: `${spec.image.repository}:${spec.image.tag}`,
    imagePullPolicy: spec.image.pullPolicy,
    args: [p.component],
    env: p.env,
    ports: p.ports.map((x) => ({ name: x.name, containerPort: x.containerPort, protocol: "TCP" })),
    readinessProbe: p.readiness,
    livenessProbe: LIVENESS,
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    },
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
  };
  const res = resources(p.resources);
  if (res) container.resources = res;
  const pl = spec.placement ?? {};
  const template: V1PodTemplateSpec = {
    metadata: { labels: p.labels, annotations: { [CONFIG_HASH_ANNOTATION]: configHash(p.env) } },
    spec: {
      serviceAccountName: names.serviceAccount(cr),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: DATAPLANE_UID,
        runAsGroup: DATAPLANE_UID,
        fsGroup: DATAPLANE_UID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [container],
      volumes: [{ name: "tmp", emptyDir: {} }],
    },
  };
  const ps = template.spec!;
  if (spec.image.pullSecrets?.length) ps.imagePullSecrets = spec.image.pullSecrets.map((name) => ({ name }));
  if (pl.nodeSelector && Object.keys(pl.nodeSelector).length > 0) ps.nodeSelector = pl.nodeSelector;
  if (pl.tolerations?.length) ps.tolerations = pl.tolerations as NonNullable<typeof ps.tolerations>;
  if (pl.affinity && Object.keys(pl.affinity).length > 0)
    ps.affinity = pl.affinity as NonNullable<typeof ps.affinity>;
  if (pl.topologySpreadConstraints?.length) {
    // A constraint without a selector spreads this component's pods.
    ps.topologySpreadConstraints = pl.topologySpreadConstraints.map((c) => ({
      ...(c as object),
      labelSelector: (c["labelSelector"] as object | undefined) ?? { matchLabels: p.selector },
    })) as NonNullable<typeof ps.topologySpreadConstraints>;
  }
  return template;
}

/** The metrics port every component exposes. */
export const metricsPort = { name: "metrics", containerPort: METRICS_PORT };
