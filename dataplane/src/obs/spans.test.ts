import { test } from "node:test";
import assert from "node:assert/strict";
import { SpanStatusCode, type Span, type SpanStatus } from "@opentelemetry/api";
import { endSpanAfter } from "./spans.js";

function recordingSpan(): { span: Span; statuses: SpanStatus[]; ends: () => number } {
  const statuses: SpanStatus[] = [];
  let ended = 0;
  const span = {
    setStatus: (s: SpanStatus) => (statuses.push(s), span),
    end: () => void ended++,
  } as unknown as Span;
  return { span, statuses, ends: () => ended };
}

test("a span around work that succeeds ends once with no error status and passes the result on", async () => {
  const r = recordingSpan();
  assert.equal(await endSpanAfter(r.span, () => Promise.resolve(42)), 42);
  assert.deepEqual(r.statuses, []);
  assert.equal(r.ends(), 1);
});

test("a span around work that throws is marked failed with the message, ends once, and the error goes on", async () => {
  const r = recordingSpan();
  await assert.rejects(
    endSpanAfter(r.span, () => Promise.reject(new Error("broker down"))),
    /broker down/,
  );
  assert.deepEqual(r.statuses, [{ code: SpanStatusCode.ERROR, message: "broker down" }]);
  assert.equal(r.ends(), 1);
  const s = recordingSpan();
  await assert.rejects(endSpanAfter(s.span, () => Promise.reject("plain string")));
  assert.deepEqual(s.statuses, [{ code: SpanStatusCode.ERROR, message: "plain string" }]);
});
