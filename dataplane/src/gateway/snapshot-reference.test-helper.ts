/**
 * Test support for the snapshot tests: what protobuf-es makes of a state, and a
 * snapshot's content with the layout's padding dropped, so the gateway's
 * patched-in-place bytes can be compared with the reference encoding.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import { SnapshotSchema } from "../gen/klagg/v1/snapshot_pb.js";
import type { GlobalState } from "./global-state.js";

/** The Snapshot protobuf-es encodes for the state's content (aggregator "t"). */
export function referenceSnapshot(st: GlobalState, seq: number, time: number, epoch: number): Buffer {
  const klines = [];
  for (let s = 0; s < st.layout.slotCount; s++) {
    const k = st.read(s);
    if (k === undefined) continue;
    klines.push(
      create(KlineSchema, {
        ...k,
        openTime: BigInt(k.openTime),
        closeTime: BigInt(k.closeTime),
        trades: BigInt(k.trades),
        firstTradeId: BigInt(k.firstTradeId),
        lastTradeId: BigInt(k.lastTradeId),
        version: BigInt(k.version),
      }),
    );
  }
  const snap = create(SnapshotSchema, {
    aggregator: "t",
    seq: BigInt(seq),
    time: BigInt(time),
    klines,
    gatewayEpoch: BigInt(epoch),
  });
  return Buffer.from(toBinary(SnapshotSchema, snap));
}

/** `bytes` decoded by protobuf-es, padding dropped, encoded again: comparable with `referenceSnapshot`. */
export function canonical(bytes: Uint8Array): Buffer {
  const snap = fromBinary(SnapshotSchema, bytes);
  snap.padding = new Uint8Array(0);
  return Buffer.from(toBinary(SnapshotSchema, snap));
}
