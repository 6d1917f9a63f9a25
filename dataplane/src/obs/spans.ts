/**
 * Span bookkeeping shared by library code (it imports only @opentelemetry/api,
 * like every library module; the SDK is started by each binary's main).
 */
import { SpanStatusCode, type Span } from "@opentelemetry/api";

/** Marks `span` as failed, with the error's message as the status message. */
export function failSpan(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** Awaits `fn` inside `span`'s lifetime: a throw marks the span failed and is rethrown; the span always ends. */
export async function endSpanAfter<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}
