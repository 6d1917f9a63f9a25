/**
 * grpc-js service definitions built from the protobuf-es schemas in `src/gen`
 * (serialize = toBinary, deserialize = fromBinary): no proto-loader, no second
 * code generator, one source of truth for the wire format.
 */
import type * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from "../gen/grpc/health/v1/health_pb.js";
import {
  PullChunkSchema,
  PullRequestSchema,
  type PullChunk,
  type PullRequest,
} from "../gen/klagg/v1/worker_pb.js";
import { decodePullChunk } from "./pull-decoder.js";

/** Binary codec of one protobuf-es message type, in the shape grpc-js wants. */
export interface Codec<T> {
  serialize(value: T): Buffer;
  deserialize(bytes: Buffer): T;
}

/** A grpc-js codec for `schema`. */
export function codecOf<Desc extends DescMessage>(schema: Desc): Codec<MessageShape<Desc>> {
  return {
    // Buffer.from(Uint8Array.buffer, ...) shares memory: no copy per message.
    serialize: (value) => {
      const bytes = toBinary(schema, value);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    deserialize: (bytes) => fromBinary(schema, bytes),
  };
}

function method<Req, Res>(
  path: string,
  responseStream: boolean,
  req: Codec<Req>,
  res: Codec<Res>,
): grpc.MethodDefinition<Req, Res> {
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: req.serialize,
    requestDeserialize: req.deserialize,
    responseSerialize: res.serialize,
    responseDeserialize: res.deserialize,
    originalName: path.slice(path.lastIndexOf("/") + 1),
  };
}

export const pullRequestCodec = codecOf(PullRequestSchema);
export const pullChunkCodec = codecOf(PullChunkSchema);
export const healthRequestCodec = codecOf(HealthCheckRequestSchema);
export const healthResponseCodec = codecOf(HealthCheckResponseSchema);

/** Fully qualified gRPC service names. */
export const WORKER_SERVICE = "klagg.v1.WorkerService";
export const HEALTH_SERVICE = "grpc.health.v1.Health";

/** Method paths, for clients that call `makeServerStreamRequest` directly. */
export const PULL_PATH = `/${WORKER_SERVICE}/Pull`;
export const HEALTH_CHECK_PATH = `/${HEALTH_SERVICE}/Check`;
export const HEALTH_WATCH_PATH = `/${HEALTH_SERVICE}/Watch`;

/** `klagg.v1.WorkerService`: server-streaming `Pull`. */
export const workerServiceDefinition = {
  pull: method<PullRequest, PullChunk>(PULL_PATH, true, pullRequestCodec, pullChunkCodec),
} satisfies grpc.ServiceDefinition;

/**
 * `klagg.v1.WorkerService` as the worker serves it: the handler writes chunks
 * already encoded by `pull-encoder.ts` (byte-identical to toBinary), so the
 * response serializer is the identity. Wire-compatible with the definition above.
 */
export const workerServiceWireDefinition = {
  pull: method<PullRequest, Buffer>(PULL_PATH, true, pullRequestCodec, {
    serialize: (bytes) => bytes,
    deserialize: (bytes) => bytes,
  }),
} satisfies grpc.ServiceDefinition;

/** The client's Pull response decoder: `pull-decoder.ts`, equal to fromBinary and about twice as fast. */
export const fastPullChunkDeserialize = (bytes: Buffer): PullChunk => decodePullChunk(bytes);

/** `grpc.health.v1.Health`: unary `Check`, server-streaming `Watch`. */
export const healthServiceDefinition = {
  check: method<HealthCheckRequest, HealthCheckResponse>(
    HEALTH_CHECK_PATH,
    false,
    healthRequestCodec,
    healthResponseCodec,
  ),
  watch: method<HealthCheckRequest, HealthCheckResponse>(
    HEALTH_WATCH_PATH,
    true,
    healthRequestCodec,
    healthResponseCodec,
  ),
} satisfies grpc.ServiceDefinition;
