/**
 * Kubernetes Events on a KlineAggregator for what the operator changed.
 * Recording an event never fails a reconcile: failures are logged.
 */
import type { Logger } from "@klagg/dataplane/obs/log";
import type { KlineAggregator } from "../api/types.js";
import type { KubeClient } from "../kube/client.js";
import { EVENTS, pathOf } from "../kube/resources.js";

/** Records events on resources. */
export interface EventRecorder {
  record(cr: KlineAggregator, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

/** Writes core/v1 Events through the operator's client. */
export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly identity: string,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(
    cr: KlineAggregator,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> {
    const ts = this.now().toISOString();
    try {
      await this.client.request("POST", pathOf(EVENTS, cr.metadata.namespace), {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { generateName: `${cr.metadata.name}.`, namespace: cr.metadata.namespace },
          involvedObject: {
            apiVersion: cr.apiVersion,
            kind: cr.kind,
            name: cr.metadata.name,
            namespace: cr.metadata.namespace,
            uid: cr.metadata.uid,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: "klagg-operator" },
          reportingComponent: "klagg.io/operator",
          reportingInstance: this.identity,
          firstTimestamp: ts,
          lastTimestamp: ts,
          count: 1,
        },
      });
    } catch (err) {
      this.log.warn("event not recorded", { reason, error: (err as Error).message });
    }
  }
}
