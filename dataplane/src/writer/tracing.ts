/**
 * Spans of the writer, continuing the gateway's trace through the W3C
 * `traceparent` header of each Kafka message. Only `@opentelemetry/api`: the
 * binary's main starts the SDK (and with it the W3C propagator and sampler).
 *
 * One INSERT carries the rows of many ticks, i.e. of many traces. The consume
 * span of each message is a child of its producer's span; the INSERT gets one
 * `klagg.writer insert` span per sampled trace among its messages (a child of
 * that trace's consume span, all with the same timing), so each tick's trace
 * shows when its klines became readable. Unsampled messages cost a
 * non-recording span and nothing more.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Span,
  type SpanContext,
  type TextMapGetter,
} from "@opentelemetry/api";
import { failSpan } from "../obs/spans.js";

const tracer = trace.getTracer("klagg-writer");

/** At most this many per-trace insert spans per INSERT (bounds the cost when sampling everything). */
export const MAX_TRACED_PER_INSERT = 64;

const headerGetter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** Starts the consume span of one message; the caller ends it. */
export function startConsumeSpan(
  headers: Readonly<Record<string, string>>,
  attrs: { topic: string; partition: number; offset: string },
): Span {
  const parent = propagation.extract(ROOT_CONTEXT, headers, headerGetter);
  return tracer.startSpan(
    "klagg.writer consume",
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "kafka",
        "messaging.operation": "process",
        "messaging.destination.name": attrs.topic,
        "messaging.kafka.destination.partition": attrs.partition,
        "messaging.kafka.message.offset": attrs.offset,
      },
    },
    parent,
  );
}

/** Collects the sampled consume spans whose traces the next INSERT continues. */
export class TraceCollector {
  private contexts: SpanContext[] = [];

  add(span: Span): void {
    if (span.isRecording() && this.contexts.length < MAX_TRACED_PER_INSERT) {
      this.contexts.push(span.spanContext());
    }
  }

  /** Takes the collected contexts for one INSERT and starts collecting anew. */
  take(): SpanContext[] {
    const out = this.contexts;
    this.contexts = [];
    return out;
  }
}

/** The spans of one INSERT; ended together. */
export class InsertSpans {
  private readonly spans: Span[];

  constructor(parents: readonly SpanContext[], rows: number) {
    const opts = {
      kind: SpanKind.CLIENT,
      attributes: { "db.system": "clickhouse", "db.operation": "INSERT", "klagg.rows": rows },
    };
    this.spans =
      parents.length === 0
        ? [tracer.startSpan("klagg.writer insert", opts, context.active())]
        : parents.map((p) =>
            tracer.startSpan("klagg.writer insert", opts, trace.setSpanContext(ROOT_CONTEXT, p)),
          );
  }

  retry(attempt: number, err: unknown): void {
    for (const s of this.spans) {
      s.addEvent("retry", { attempt, "exception.message": err instanceof Error ? err.message : String(err) });
    }
  }

  end(err?: unknown): void {
    for (const s of this.spans) {
      if (err !== undefined) failSpan(s, err);
      s.end();
    }
  }
}
