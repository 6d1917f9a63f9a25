/**
 * Structured JSON logging (one object per line on stderr by default).
 *
 * Kept dependency-free so library code can log without choosing a framework;
 * the active OpenTelemetry span's trace and span ids are attached so logs and
 * traces join up in Jaeger.
 */
import { trace } from "@opentelemetry/api";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Extra structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/** A component-scoped structured logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` as well. */
  child(fields: LogFields): Logger;
}

/** Where log lines go; a test can capture them. */
export type LogSink = (line: string) => void;

export interface LoggerOptions {
  level?: LogLevel;
  sink?: LogSink;
  /** Injected for deterministic tests; defaults to Date.now. */
  now?: () => number;
}

const stderrSink: LogSink = (line) => process.stderr.write(line + "\n");

/** Creates a logger for `component` (e.g. "gateway"). */
export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  const min = ORDER[opts.level ?? "info"];
  const sink = opts.sink ?? stderrSink;
  const now = opts.now ?? Date.now;
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (ORDER[level] < min) return;
      const rec: LogFields = {
        time: new Date(now()).toISOString(),
        level,
        component,
        msg,
        ...base,
        ...fields,
      };
      const span = trace.getActiveSpan()?.spanContext();
      if (span && span.traceId !== "00000000000000000000000000000000") {
        rec.trace_id = span.traceId;
        rec.span_id = span.spanId;
      }
      sink(JSON.stringify(rec, errorReplacer));
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return make({});
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === "bigint") return value.toString();
  return value;
}

/**
 * Counts events by reason and logs at most one line per reason per window,
 * carrying how many were suppressed. Used for rejected input, where a flood of
 * bad lines must neither flood the log nor go unseen.
 */
export class RateLimitedLog {
  private readonly lastAt = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(reason: string, msg: string, fields?: LogFields): void {
    const t = this.now();
    const last = this.lastAt.get(reason);
    if (last !== undefined && t - last < this.windowMs) {
      this.suppressed.set(reason, (this.suppressed.get(reason) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(reason) ?? 0;
    this.suppressed.set(reason, 0);
    this.lastAt.set(reason, t);
    this.log.warn(msg, { reason, suppressed_since_last: suppressed, ...fields });
  }
}
