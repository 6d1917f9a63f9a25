/**
 * Names, labels and owner references of the children of one KlineAggregator.
 * Pure: every builder derives names from here so nothing drifts apart.
 */
import type { V1OwnerReference } from "@kubernetes/client-node";
import { API_VERSION, KIND, type KlineAggregator } from "../api/types.js";

/** The single field manager of every server-side apply the operator sends. */
export const FIELD_MANAGER = "klagg-operator";
/** Annotation on pod templates: hash of the component's rendered config. */
export const CONFIG_HASH_ANNOTATION = "klagg.io/config-hash";
/** Annotation on children: hash of the whole desired object (drives re-apply when fields are removed). */
export const SPEC_HASH_ANNOTATION = "klagg.io/spec-hash";
export const SHARD_LABEL = "klagg.io/shard";
export const INSTANCE_LABEL = "app.kubernetes.io/instance";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

export const GRPC_PORT = 50051;
export const METRICS_PORT = 9464;

/** The dataplane components. */
export type Component = "worker" | "gateway" | "writer";

export const names = {
  workerStatefulSet: (cr: KlineAggregator, shard: number) => `${cr.metadata.name}-worker-${shard}`,
  workerService: (cr: KlineAggregator) => `${cr.metadata.name}-worker`,
  gateway: (cr: KlineAggregator) => `${cr.metadata.name}-gateway`,
  writer: (cr: KlineAggregator) => `${cr.metadata.name}-writer`,
  assignment: (cr: KlineAggregator) => `${cr.metadata.name}-shards`,
  serviceAccount: (cr: KlineAggregator) => `${cr.metadata.name}-dataplane`,
  component: (cr: KlineAggregator, c: Component) => `${cr.metadata.name}-${c}`,
};

/** gRPC address of shard `shard`'s worker pod through the headless Service. */
export function workerAddress(cr: KlineAggregator, shard: number): string {
  const pod = `${names.workerStatefulSet(cr, shard)}-0`;
  return `${pod}.${names.workerService(cr)}.${cr.metadata.namespace}.svc:${GRPC_PORT}`;
}

/** Labels every child of `cr` carries (the prune selector is `INSTANCE_LABEL` + `MANAGED_BY_LABEL`). */
export function baseLabels(cr: KlineAggregator): Record<string, string> {
  return {
    "app.kubernetes.io/name": "klagg",
    [INSTANCE_LABEL]: cr.metadata.name,
    [MANAGED_BY_LABEL]: FIELD_MANAGER,
  };
}

/** Selector labels of one component's pods (and of one shard's when `shard` is given). */
export function selectorLabels(cr: KlineAggregator, c: Component, shard?: number): Record<string, string> {
  const l: Record<string, string> = {
    "app.kubernetes.io/name": "klagg",
    [INSTANCE_LABEL]: cr.metadata.name,
    [COMPONENT_LABEL]: c,
  };
  if (shard !== undefined) l[SHARD_LABEL] = String(shard);
  return l;
}

/** Labels of a component's children and pods. */
export function componentLabels(cr: KlineAggregator, c: Component, shard?: number): Record<string, string> {
  return { ...baseLabels(cr), ...selectorLabels(cr, c, shard) };
}

/** The controller owner reference to `cr` that every child carries. */
export function ownerRef(cr: KlineAggregator): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: cr.metadata.name,
    uid: cr.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Standard child metadata. */
export function childMeta(cr: KlineAggregator, name: string, labels: Record<string, string>) {
  return { name, namespace: cr.metadata.namespace, labels, ownerReferences: [ownerRef(cr)] };
}
