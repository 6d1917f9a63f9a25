/**
 * The ports of the writer loop: where messages come from and where offsets
 * are committed. `kafka-adapter.ts` implements them on kafkajs; unit tests use
 * in-memory fakes.
 */

/** One consumed message, already detached from the Kafka client's types. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  /** Offset as a decimal string (Kafka offsets are 64-bit). */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Headers decoded as UTF-8 (the first value of a repeated header). */
  readonly headers: Readonly<Record<string, string>>;
}

/** The messages of one fetch of one partition, in offset order. */
export interface ConsumedBatch {
  readonly topic: string;
  readonly partition: number;
  /** The partition's high watermark when fetched (offset of the next message to be produced). */
  readonly highWatermark: string;
  readonly messages: readonly ConsumedMessage[];
}

/** An offset to commit: the next message to read of one partition. */
export interface CommitOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** Offsets by "topic\0partition". */
export type OffsetMap = Map<string, bigint>;

/** A consumer group member delivering batches and committing offsets only when asked. */
export interface MessageSource {
  /**
   * Joins the group and starts delivering batches. A batch counts as consumed
   * once the handler resolves (the fetch position moves on), but nothing is
   * committed until {@link commit}. If the handler rejects, the batch is
   * delivered again. `onFatal` is called if the source stops for good (e.g. the
   * client gave up reconnecting); the writer then stops and reports the failure.
   */
  start(handler: (batch: ConsumedBatch) => Promise<void>, onFatal: (err: Error) => void): Promise<void>;
  /** Stops fetching (the batch in progress still completes). Idempotent. */
  pause(): void;
  resume(): void;
  commit(offsets: readonly CommitOffset[]): Promise<void>;
  /** Publishes a message that cannot be processed to the dead-letter topic, with the reason. */
  deadLetter(msg: ConsumedMessage, reason: string, detail: string): Promise<void>;
  /** The topic's current end offsets (high watermarks) by "topic\0partition". */
  endOffsets(): Promise<OffsetMap>;
  /** The group's committed offsets by "topic\0partition" (missing when never committed). */
  committedOffsets(): Promise<OffsetMap>;
  /** Leaves the group and disconnects. */
  stop(): Promise<void>;
}

/** The key of a partition in offset maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
