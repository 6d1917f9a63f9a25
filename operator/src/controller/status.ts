/**
 * Status computation, pure: from the shard plan, the live children and what
 * this reconcile did, derive conditions whose reasons and messages say why.
 * Readiness is read from each workload's status as its controller reports
 * it; a workload no controller has observed yet is reported as such (on an
 * API server without controllers that is the honest answer forever).
 */
import type {
  Condition,
  ConditionType,
  KlineAggregator,
  KlineAggregatorStatus,
  ShardStatus,
} from "../api/types.js";
import type { KubeObject } from "../kube/client.js";
import type { ShardPlan } from "../render/desired.js";

/** Readiness of one workload. */
export interface WorkloadState {
  ready: boolean;
  /** "Ready", "Progressing" or "Pending" (never observed by its controller). */
  state: "Ready" | "Progressing" | "Pending";
  readyReplicas: number;
  replicas: number;
  why: string;
}

interface WorkloadStatus {
  observedGeneration?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  updatedReplicas?: number;
}

/** Reads readiness of a StatefulSet or Deployment from its status. */
export function workloadState(obj: KubeObject | undefined, kindName: string): WorkloadState {
  if (!obj)
    return {
      ready: false,
      state: "Pending",
      readyReplicas: 0,
      replicas: 0,
      why: `${kindName} does not exist yet`,
    };
  const replicas = ((obj["spec"] as { replicas?: number } | undefined)?.replicas ?? 1) as number;
  const st = (obj["status"] ?? {}) as WorkloadStatus;
  const gen = obj.metadata?.generation ?? 0;
  const ready = obj.kind === "Deployment" ? (st.availableReplicas ?? 0) : (st.readyReplicas ?? 0);
  const word = obj.kind === "Deployment" ? "available" : "ready";
  if (st.observedGeneration === undefined) {
    return {
      ready: replicas === 0,
      state: replicas === 0 ? "Ready" : "Pending",
      readyReplicas: ready,
      replicas,
      why: `${kindName} has not been observed by its controller yet (no status.observedGeneration; is kube-controller-manager running?)`,
    };
  }
  if (st.observedGeneration < gen) {
    return {
      ready: false,
      state: "Progressing",
      readyReplicas: ready,
      replicas,
      why: `${kindName} generation ${gen} not yet observed by its controller (observed ${st.observedGeneration})`,
    };
  }
  const ok = ready >= replicas && (st.updatedReplicas ?? replicas) >= replicas;
  return {
    ready: ok,
    state: ok ? "Ready" : "Progressing",
    readyReplicas: ready,
    replicas,
    why: `${kindName} has ${ready}/${replicas} ${word} replicas`,
  };
}

/** Inputs of a status computation. */
export interface StatusInput {
  cr: KlineAggregator;
  shards: ShardPlan[];
  statefulSets: (KubeObject | undefined)[];
  statefulSetNames: string[];
  gateway: KubeObject | undefined;
  writer: KubeObject | undefined;
  assignmentConfigMap: string;
  /** Apply/delete failures of this pass. */
  errors: string[];
  suspended: boolean;
  now: string;
}

/** Computes the full status; lastTransitionTime is kept from `cr.status` when a condition's status is unchanged. */
export function computeStatus(s: StatusInput): KlineAggregatorStatus {
  const gen = s.cr.metadata.generation ?? 0;
  const table: ShardStatus[] = s.shards.map((p, i) => {
    const w = workloadState(s.statefulSets[i], `StatefulSet ${s.statefulSetNames[i]}`);
    return {
      index: p.index,
      statefulSet: s.statefulSetNames[i] ?? "",
      symbols: p.symbols.length,
      readyReplicas: w.readyReplicas,
      configHash: p.configHash,
      state: p.symbols.length === 0 ? "Empty" : w.state,
    };
  });
  // Shards without symbols run no worker; they are reported as Degraded, not as unready workers.
  const running = s.shards.map((p, i) => ({ p, i })).filter((x) => x.p.symbols.length > 0);
  const workerStates = running.map((x) => ({
    i: x.p.index,
    w: workloadState(s.statefulSets[x.i], `StatefulSet ${s.statefulSetNames[x.i]}`),
  }));
  const readyShards = workerStates.filter((x) => x.w.ready).length;
  const notReady = workerStates.filter((x) => !x.w.ready).map((x) => `shard ${x.i}: ${x.w.why}`);
  const gw = workloadState(s.gateway, `Deployment ${s.cr.metadata.name}-gateway`);
  const wr = workloadState(s.writer, `Deployment ${s.cr.metadata.name}-writer`);
  const empty = table.filter((t) => t.state === "Empty").map((t) => t.index);

  const conds: Omit<Condition, "lastTransitionTime" | "observedGeneration">[] = [];
  const workersReady = readyShards === running.length;
  conds.push(
    workersReady
      ? {
          type: "WorkersReady",
          status: "True",
          reason: "AllShardsReady",
          message: `${readyShards}/${running.length} worker shards ready`,
        }
      : {
          type: "WorkersReady",
          status: "False",
          reason: "ShardsNotReady",
          message: `${readyShards}/${running.length} worker shards ready; ${notReady.join("; ")}`,
        },
  );
  conds.push(
    gw.ready
      ? { type: "GatewayReady", status: "True", reason: "Available", message: gw.why }
      : {
          type: "GatewayReady",
          status: "False",
          reason: gw.state === "Pending" ? "NotObserved" : "NotAvailable",
          message: gw.why,
        },
  );
  conds.push(
    wr.ready
      ? {
          type: "WriterReady",
          status: "True",
          reason: wr.replicas === 0 ? "ScaledToZero" : "Available",
          message: wr.why,
        }
      : {
          type: "WriterReady",
          status: "False",
          reason: wr.state === "Pending" ? "NotObserved" : "NotAvailable",
          message: wr.why,
        },
  );
  const degraded: string[] = [];
  if (s.errors.length > 0) degraded.push(`applying children failed: ${s.errors.join("; ")}`);
  if (empty.length > 0) {
    degraded.push(
      `shard(s) ${empty.join(", ")} got no symbols from rendezvous hashing; their workers idle (use fewer shards or more symbols)`,
    );
  }
  conds.push(
    degraded.length > 0
      ? {
          type: "Degraded",
          status: "True",
          reason: s.errors.length > 0 ? "ApplyFailed" : "EmptyShards",
          message: degraded.join("; "),
        }
      : {
          type: "Degraded",
          status: "False",
          reason: "AsExpected",
          message: "all children applied; every shard has symbols",
        },
  );
  conds.push(
    s.suspended
      ? {
          type: "Suspended",
          status: "True",
          reason: "SuspendedBySpec",
          message: "spec.suspend is true: the operator leaves every child exactly as it is",
        }
      : { type: "Suspended", status: "False", reason: "Reconciling", message: "spec.suspend is false" },
  );
  const failing = conds.filter(
    (c) => ["WorkersReady", "GatewayReady", "WriterReady"].includes(c.type) && c.status !== "True",
  );
  const ready = failing.length === 0 && s.errors.length === 0;
  conds.unshift(
    ready
      ? {
          type: "Ready",
          status: "True",
          reason: "AllComponentsReady",
          message: "workers, gateway and writer are ready",
        }
      : {
          type: "Ready",
          status: "False",
          reason: failing.length > 0 ? `${failing[0]!.type.replace("Ready", "")}NotReady` : "ApplyFailed",
          message:
            failing.length > 0
              ? failing.map((c) => `${c.type}: ${c.message}`).join(" | ")
              : degraded.join("; "),
        },
  );

  const prev = new Map((s.cr.status?.conditions ?? []).map((c) => [c.type, c]));
  const conditions: Condition[] = conds.map((c) => {
    const old = prev.get(c.type as ConditionType);
    return {
      ...c,
      observedGeneration: gen,
      lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : s.now,
    } as Condition;
  });
  return {
    observedGeneration: gen,
    symbolCount: s.cr.spec.symbols.length,
    readyShards,
    assignmentConfigMap: s.assignmentConfigMap,
    conditions,
    shards: table,
  };
}
