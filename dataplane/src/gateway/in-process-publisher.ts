/**
 * The in-process snapshot publisher, for `klagg local` without Redis: hands
 * each snapshot (decoded, as `klagg.v1.Snapshot` + `SnapshotUpdate`, the same
 * messages a Redis reader gets) to a bus in the same process, e.g. the read
 * scheduler's `InProcessSnapshotBus`. Coalescing like every publisher: a slow
 * bus sees fewer, never stale, snapshots.
 */
import { fromBinary } from "@bufbuild/protobuf";
import {
  SnapshotSchema,
  SnapshotUpdateSchema,
  type Snapshot,
  type SnapshotUpdate,
} from "../gen/klagg/v1/snapshot_pb.js";
import type { Logger } from "../obs/log.js";
import { CoalescingPublisher } from "./coalescing-publisher.js";
import type { GatewaySnapshot } from "./ports.js";

/** Anything that accepts a stored snapshot plus its update (`InProcessSnapshotBus` does). */
export interface SnapshotSink {
  publish(snapshot: Snapshot, update: SnapshotUpdate): Promise<void> | void;
}

/** Decodes each snapshot and passes it to a sink in this process. */
export class InProcessPublisher extends CoalescingPublisher {
  readonly name = "in-process";

  constructor(
    private readonly sink: SnapshotSink,
    private readonly log: Logger,
  ) {
    super();
  }

  protected async deliver(snap: GatewaySnapshot): Promise<void> {
    // Yield first so the decode never runs inside the tick that published.
    await Promise.resolve();
    const snapshot = fromBinary(SnapshotSchema, snap.bytes);
    // Padding of the fixed-slot layout: meaningless, and its decoded value is a view of the pooled buffer.
    snapshot.padding = new Uint8Array(0);
    await this.sink.publish(snapshot, fromBinary(SnapshotUpdateSchema, snap.updateBytes));
  }

  protected onFailure(err: unknown, snap: GatewaySnapshot): void {
    this.log.error("in-process snapshot delivery failed", { err, seq: snap.seq });
  }
}
