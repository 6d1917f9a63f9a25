/**
 * Decoding of one Kafka message value (a `klagg.v1.KlineBatch`) into table
 * rows. Pure. A message is accepted or rejected as a whole: a batch with one
 * invalid kline signals a producer bug, so the whole message goes to the
 * dead-letter topic intact, where it can be inspected and replayed.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { KlineBatchSchema } from "../gen/klagg/v1/kline_pb.js";
import { safeInt, toRow, type KlineRow, type RowRejection } from "./row.js";

/** Why a message was dead-lettered (the label of the dead-letter counter). */
export type DecodeRejection = "empty_value" | "undecodable" | RowRejection;

/** Result of {@link decodeKlineMessage}. */
export type DecodeResult =
  | { ok: true; rows: KlineRow[]; seq: number; aggregator: string }
  | { ok: false; reason: DecodeRejection; detail: string };

/** Decodes and validates one message value. Never throws. */
export function decodeKlineMessage(value: Uint8Array | null): DecodeResult {
  if (value === null || value.length === 0) return { ok: false, reason: "empty_value", detail: "no value" };
  let batch;
  try {
    batch = fromBinary(KlineBatchSchema, value);
  } catch (err) {
    return { ok: false, reason: "undecodable", detail: err instanceof Error ? err.message : String(err) };
  }
  const rows: KlineRow[] = [];
  for (const k of batch.klines) {
    const r = toRow(k);
    if (!r.ok) return { ok: false, reason: r.reason, detail: r.detail };
    rows.push(r.row);
  }
  return { ok: true, rows, seq: safeInt(batch.seq), aggregator: batch.aggregator };
}
