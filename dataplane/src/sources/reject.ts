/**
 * Rejection plumbing shared by the sources: every rejected input goes to the
 * sink (which counts it) and to a rate-limited log line naming the reason, so
 * a flood of bad lines is neither silent nor floods the log.
 */
import type { RejectReason } from "../core/types.js";
import { RateLimitedLog, type Logger } from "../obs/log.js";
import type { TradeSink } from "./trade-source.js";

/** Longest detail string passed on; details quote input, which may be huge or hostile. */
const MAX_DETAIL = 200;

/** Forwards rejections to a sink and a rate-limited warning log, and counts them by reason. */
export class Rejecter {
  private readonly limited: RateLimitedLog;
  private readonly counts = new Map<RejectReason, number>();

  constructor(
    log: Logger,
    private readonly source: string,
    windowMs = 5000,
    now: () => number = Date.now,
  ) {
    this.limited = new RateLimitedLog(log, windowMs, now);
  }

  reject(sink: TradeSink, reason: RejectReason, detail: string): void {
    const short = clip(detail);
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    sink.onReject(reason, short);
    this.limited.warn(reason, `rejected input: ${reason}`, { source: this.source, detail: short });
  }

  /** Rejections so far, by reason. */
  stats(): Partial<Record<RejectReason, number>> {
    return Object.fromEntries(this.counts);
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}

/** Shortens input quoted in a detail so a log line stays small. */
export function clip(s: string, max = MAX_DETAIL): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length} chars)`;
}
