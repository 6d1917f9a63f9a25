/**
 * The API resources the operator touches, and how their REST paths are built.
 * One table, so the client, the informers, RBAC and the tests agree.
 */

/** Where one resource kind lives in the API. */
export interface ResourceType {
  readonly kind: string;
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

const r = (kind: string, group: string, version: string, plural: string): ResourceType => ({
  kind,
  group,
  version,
  plural,
});

export const KLINE_AGGREGATORS = r("KlineAggregator", "klagg.io", "v1alpha1", "klineaggregators");
export const STATEFUL_SETS = r("StatefulSet", "apps", "v1", "statefulsets");
export const DEPLOYMENTS = r("Deployment", "apps", "v1", "deployments");
export const SERVICES = r("Service", "", "v1", "services");
export const CONFIG_MAPS = r("ConfigMap", "", "v1", "configmaps");
export const SERVICE_ACCOUNTS = r("ServiceAccount", "", "v1", "serviceaccounts");
export const POD_DISRUPTION_BUDGETS = r("PodDisruptionBudget", "policy", "v1", "poddisruptionbudgets");
export const NETWORK_POLICIES = r("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies");
export const LEASES = r("Lease", "coordination.k8s.io", "v1", "leases");
export const EVENTS = r("Event", "", "v1", "events");

/** Every child kind the operator owns, in apply order (dependencies first). */
export const CHILD_TYPES: readonly ResourceType[] = [
  SERVICE_ACCOUNTS,
  CONFIG_MAPS,
  SERVICES,
  STATEFUL_SETS,
  DEPLOYMENTS,
  POD_DISRUPTION_BUDGETS,
  NETWORK_POLICIES,
];

/** apiVersion string of a resource type ("v1" or "apps/v1"). */
export function apiVersionOf(t: ResourceType): string {
  return t.group === "" ? t.version : `${t.group}/${t.version}`;
}

/** Finds the resource type of an object by its apiVersion and kind. */
export function typeOf(apiVersion: string, kind: string): ResourceType {
  const all = [KLINE_AGGREGATORS, ...CHILD_TYPES, LEASES, EVENTS];
  const t = all.find((x) => x.kind === kind && apiVersionOf(x) === apiVersion);
  if (!t) throw new Error(`unknown resource ${apiVersion} ${kind}`);
  return t;
}

/** REST path of a collection (namespace undefined = all namespaces) or of one object (+ subresource). */
export function pathOf(t: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let p = t.group === "" ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  if (namespace !== undefined) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${t.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) p += `/${subresource}`;
  return p;
}
