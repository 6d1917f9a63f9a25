/**
 * Decoding of one Kafka message value (a `klagg.v1.KlineBatch`) into table
 * rows, by the wire decoder of kline-wire.ts (validation as in row.ts). Pure. A message is accepted or rejected as a whole: a batch with one
 * invalid kline signals a producer bug, so the whole message goes to the
 * dead-letter topic intact, where it can be inspected and replayed.
 */
import { decodeKlineBatch, WireRejection } from "./kline-wire.js";
import type { KlineRow, RowRejection } from "./row.js";

/** Why a message was dead-lettered (the label of the dead-letter counter). */
export type DecodeRejection = "empty_value" | "undecodable" | RowRejection;

/** Result of {@link decodeKlineMessage}. */
export type DecodeResult =
  | { ok: true; rows: KlineRow[]; seq: number; aggregator: string }
  | { ok: false; reason: DecodeRejection; detail: string };

/** Decodes and validates one message value. Never throws. */
export function decodeKlineMessage(value: Uint8Array | null): DecodeResult {
  if (value === null || value.length === 0) return { ok: false, reason: "empty_value", detail: "no value" };
  try {
    const batch = decodeKlineBatch(value);
    return { ok: true, rows: batch.rows, seq: batch.seq, aggregator: batch.aggregator };
  } catch (err) {
    if (err instanceof WireRejection) return { ok: false, reason: err.reason, detail: err.message };
    return { ok: false, reason: "undecodable", detail: err instanceof Error ? err.message : String(err) };
  }
}
