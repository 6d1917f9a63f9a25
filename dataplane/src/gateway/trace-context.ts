/**
 * W3C `traceparent` formatting and parsing for the gateway's hand-offs (Kafka
 * headers, asynchronous publisher spans). Done by hand so the gateway does not
 * depend on which propagator the process registered.
 */
import { isSpanContextValid, trace, context, type Context, type SpanContext } from "@opentelemetry/api";

/** The `traceparent` of a span context, or "" when it is not valid (tracing off). */
export function formatTraceparent(sc: SpanContext): string {
  if (!isSpanContextValid(sc)) return "";
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context of a `traceparent`, or undefined when it is empty or malformed. */
export function parseTraceparent(tp: string): SpanContext | undefined {
  const m = TRACEPARENT.exec(tp);
  if (m === null) return undefined;
  const sc: SpanContext = { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true };
  return isSpanContextValid(sc) ? sc : undefined;
}

/** A context whose parent span is the one `tp` names (the active context when `tp` is empty). */
export function contextOf(tp: string): Context {
  const sc = parseTraceparent(tp);
  return sc === undefined ? context.active() : trace.setSpanContext(context.active(), sc);
}
