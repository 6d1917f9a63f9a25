/**
 * Everything one KlineAggregator should own, computed purely from the resource.
 */
import { assignShards } from "@klagg/dataplane/core/shard";
import type { KlineAggregator } from "../api/types.js";
import { withDefaults } from "../api/types.js";
import type { KubeObject } from "../kube/client.js";
import { configHash, renderWorkerEnv } from "./config.js";
import { desiredGatewayDeployment, desiredGatewayService, desiredWriterDeployment } from "./gateway.js";
import {
  desiredAssignmentConfigMap,
  desiredNetworkPolicy,
  desiredPdb,
  desiredServiceAccount,
} from "./policy.js";
import { desiredStatefulSet, desiredWorkerService } from "./workers.js";

/** One shard of the plan. */
export interface ShardPlan {
  index: number;
  symbols: string[];
  configHash: string;
}

/** The desired children plus the shard plan they came from. */
export interface DesiredState {
  shards: ShardPlan[];
  children: KubeObject[];
}

/** Computes the desired children of `cr` (symbols assigned by the workers' rendezvous hashing). */
export function desiredState(cr: KlineAggregator): DesiredState {
  const spec = withDefaults(cr.spec);
  const assignment = assignShards(spec.symbols, spec.shards);
  const shards = assignment.map((symbols, index) => ({
    index,
    symbols,
    configHash: configHash(renderWorkerEnv(cr, spec, index, symbols)),
  }));
  const running = shards.filter((s) => s.symbols.length > 0);
  const children: object[] = [
    desiredServiceAccount(cr),
    desiredAssignmentConfigMap(cr, assignment),
    desiredWorkerService(cr),
    desiredGatewayService(cr),
    // A shard that hashing left without symbols gets no worker (its parser would refuse to start);
    // status reports it as Empty and Degraded.
    ...running.map((s) => desiredStatefulSet(cr, spec, s.index, s.symbols)),
    desiredGatewayDeployment(
      cr,
      spec,
      running.map((s) => s.index),
    ),
    desiredWriterDeployment(cr, spec),
    desiredPdb(cr, "worker"),
    desiredPdb(cr, "writer"),
    desiredNetworkPolicy(cr, "worker"),
    desiredNetworkPolicy(cr, "gateway"),
    desiredNetworkPolicy(cr, "writer"),
  ];
  return { shards, children: children as KubeObject[] };
}
