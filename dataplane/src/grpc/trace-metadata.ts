/**
 * W3C trace-context propagation through gRPC metadata, via the globally
 * registered propagator of `@opentelemetry/api` (a no-op until a binary's
 * main starts the SDK, see obs/tracing.ts).
 */
import type { Metadata } from "@grpc/grpc-js";
import type { TextMapGetter, TextMapSetter } from "@opentelemetry/api";

/** Reads propagation headers from incoming gRPC metadata. */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const values = md.get(key).filter((v): v is string => typeof v === "string");
    if (values.length === 0) return undefined;
    return values.length === 1 ? values[0] : values;
  },
};

/** Writes propagation headers into outgoing gRPC metadata. */
export const metadataSetter: TextMapSetter<Metadata> = {
  set: (md, key, value) => md.set(key, value),
};
