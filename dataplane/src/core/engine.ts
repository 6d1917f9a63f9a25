/**
 * The kline aggregation engine: pure, single-threaded, exact, allocation-free
 * per trade (see engine-api.ts for the contract).
 *
 * Hot path: a trade updates only its symbol's pending accumulator P0, which
 * covers the current base bucket (1 s when 1s is configured, else 1 min).
 * When a trade of a later bucket arrives, the bucket is over: P0 goes straight
 * into the closed store as the shortest interval's closed kline (merged with
 * what a pull had already folded into the slot) and into a second
 * accumulator P1 (the running minute). On pull, advanceTime, closeAll or a
 * late trade P0 is folded into the slot instead (the kline stays open). P1 is
 * folded into the 1m..1M slots when its minute changes or when a pull
 * (advanceTime, closeAll, a late trade) needs them current. So a trade costs
 * about one accumulator update, a second one row copy and one merge, and the
 * long intervals are touched once a minute or once a pull. Every interval's
 * klines nest in these buckets (offsets are whole minutes). Versions are
 * stamped at fold time. Trades come parsed (`ingestParsed`: symbol index and
 * scaled integers) or as decimal strings (`ingest` parses them, then the same).
 *
 * Open/close are the prices of the lowest/highest trade id, so the order in
 * which trades and accumulators merge does not change the result. Trades of
 * an older bucket (late, within grace) go straight into the slots or closed klines.
 */
import { MAX_DECIMALS, parseDecimal, PARSE_BAD, PARSE_RANGE, POW10, twoProduct } from "./decimal.js";
import type {
  EngineOptions,
  EngineStats,
  KlineEngine,
  KlineRowVisitor,
  PullHead,
  PullView,
} from "./engine-api.js";
import { EngineState } from "./engine-state.js";
import { nextOpenTime, openTime } from "./intervals.js";
import { F, W } from "./kline-table.js";
import { IdClass } from "./trade-ids.js";
import type { KlineRecord, RawTrade, RejectReason } from "./types.js";

/** Trades before 2000-01-01 or from 2100 on are absurd. */
const MIN_TIME = 946_684_800_000;
const MAX_TIME = 4_102_444_800_000;
/** Once the clock is known (advanceTime), trades this far ahead of it are absurd. */
export const MAX_FUTURE_MS = 10 * 60_000;
const MAX_EXACT = Number.MAX_SAFE_INTEGER;
/** A single trade's quote (scaled) must stay below this so 2^20 of them still sum exactly (< 2^100). */
const MAX_TRADE_QUOTE = 2 ** 80;
/** A decimals code of `ingest`: the quantity text is a negative number. */
const NEGATIVE = -3;
/** Closed klines still needed that one pull looks past while forgetting acknowledged ones. */
const REQUEUE_BUDGET = 256;

/** Builds an engine; throws RangeError on invalid options (a configuration error, not a data error). */
export function createEngine(opts: EngineOptions): KlineEngine {
  return new Engine(opts);
}

class Engine extends EngineState implements KlineEngine {
  private tradesIn = 0;
  private lateAccepted = 0;
  private readonly rejected: Partial<Record<RejectReason, number>> = {};
  /**
   * The symbol of the previous accepted lookup and its index: exchanges send bursts of one symbol's
   * trades (a sweep of the book), so most lookups skip the Map (an identity compare when the source
   * reuses its strings, a short string compare otherwise).
   */
  private lastSymbol = "";
  private lastIndex = -1;
  /** Scratch for parsed numbers: price, quantity, quote hi, quote lo. */
  private readonly num = new Float64Array(4);

  ingest(trade: RawTrade): RejectReason | undefined {
    let s = this.lastIndex;
    if (trade.symbol !== this.lastSymbol || s < 0) {
      const found = this.symbolIndex.get(trade.symbol);
      if (found === undefined) {
        this.tradesIn++;
        return this.reject("unknown_symbol");
      }
      s = found;
      this.lastSymbol = trade.symbol;
      this.lastIndex = s;
    }
    const num = this.num;
    const pd = typeof trade.price === "string" ? parseDecimal(trade.price, num, 0) : PARSE_BAD;
    let qd = typeof trade.qty === "string" ? parseDecimal(trade.qty, num, 1) : PARSE_BAD;
    if (qd === PARSE_BAD && typeof trade.qty === "string" && trade.qty.charCodeAt(0) === 45) qd = NEGATIVE;
    const { time, firstId, lastId, buyerMaker } = trade;
    return this.ingestParsed(s, time, num[0]!, pd, num[1]!, qd, firstId, lastId, buyerMaker);
  }

  symbolIndexOf(symbol: string): number {
    return this.symbolIndex.get(symbol) ?? -1;
  }

  ingestParsed(
    s: number,
    t: number,
    price: number,
    pd: number,
    qty: number,
    qd: number,
    first: number,
    last: number,
    buyerMaker: boolean,
  ): RejectReason | undefined {
    this.tradesIn++;
    if (!(s >= 0 && s < this.symbols.length && (s | 0) === s)) return this.reject("unknown_symbol");
    if (
      !Number.isInteger(t) ||
      t < MIN_TIME ||
      t >= MAX_TIME ||
      (this.now >= 0 && t > this.now + MAX_FUTURE_MS)
    ) {
      return this.reject("absurd_timestamp");
    }
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 0 || last < first) {
      return this.reject("out_of_range");
    }
    // Decimals outside 0..MAX_DECIMALS are the parse codes (PARSE_BAD, PARSE_RANGE, NEGATIVE) or bad input.
    if (
      !(pd >= 0 && pd <= MAX_DECIMALS && (pd | 0) === pd) ||
      !Number.isInteger(price) ||
      price <= 0 ||
      price > MAX_EXACT
    ) {
      return this.reject(
        pd === PARSE_RANGE || pd > MAX_DECIMALS || price > MAX_EXACT ? "out_of_range" : "bad_price",
      );
    }
    if (
      !(qd >= 0 && qd <= MAX_DECIMALS && (qd | 0) === qd) ||
      !Number.isInteger(qty) ||
      qty <= 0 ||
      qty > MAX_EXACT
    ) {
      if (qd === NEGATIVE || (qd >= 0 && qty <= 0)) return this.reject("non_positive_quantity");
      return this.reject(
        qd === PARSE_RANGE || qd > MAX_DECIMALS || qty > MAX_EXACT ? "out_of_range" : "bad_quantity",
      );
    }

    // The symbol's decimals, raised if this trade has more (committed only once the trade is accepted).
    const sdp = this.priceDec[s]!;
    const sdq = this.qtyDec[s]!;
    const dp = pd > sdp ? pd : sdp;
    const dq = qd > sdq ? qd : sdq;
    const p = dp === pd ? price : price * POW10[dp - pd]!;
    const q = dq === qd ? qty : qty * POW10[dq - qd]!;
    if (p > MAX_EXACT || q > MAX_EXACT) return this.reject("out_of_range");
    const num = this.num;
    twoProduct(p, q, num, 2);
    const ph = num[2]!;
    const pl = num[3]!;
    if (ph >= MAX_TRADE_QUOTE) return this.reject("out_of_range");
    const cls = this.ids.classify(s, first, last);
    if (cls === IdClass.Duplicate) return this.reject("duplicate");

    const mt = this.maxTime[s]!;
    if (t < mt || t < this.now) {
      // Possibly late: the smallest interval's kline containing t must still be in its grace period.
      const spec = this.specs[0]!;
      const close = nextOpenTime(spec, openTime(spec, t)) - 1;
      if (close + this.graceMs < (mt > this.now ? mt : this.now)) return this.reject("late_beyond_grace");
    }
    if (dp !== sdp || dq !== sdq) {
      if (sdp < 0) {
        this.priceDec[s] = dp; // first trade of the symbol
        this.qtyDec[s] = dq;
      } else if (!this.rescale(s, dp, dq)) {
        return this.reject("out_of_range");
      }
    }
    this.ids.commit(s, first, last, cls);
    if (t > mt) this.maxTime[s] = t;
    const takerBuy = !buyerMaker;
    const p0 = this.p0;
    const r0 = s;
    const b = r0 * W;
    const pb = p0.d[b + F.OpenTime]!;
    if (t >= pb) {
      if (t >= pb + this.baseMs) {
        if (p0.d[b + F.Count]! > 0) this.foldP0(s, true);
        p0.d[b + F.OpenTime] = Math.floor(t / this.baseMs) * this.baseMs;
      }
      p0.addTrade(r0, p, q, ph, pl, first, last, takerBuy);
      this.markDirty(s);
    } else {
      this.lateAccepted++;
      this.scratch.d[F.Count] = 0;
      this.scratch.addTrade(0, p, q, ph, pl, first, last, takerBuy);
      this.applyLate(s, t);
    }
    return undefined;
  }

  advanceTime(nowMs: number): void {
    if (!Number.isFinite(nowMs) || nowMs <= this.now) return;
    this.now = nowMs;
    const wall = nowMs - this.graceMs;
    const d0 = this.p0.d;
    for (let s = 0; s < this.symbols.length; s++) {
      if (this.priceDec[s]! < 0) continue; // never traded
      const mt = this.maxTime[s]!;
      const w = mt > wall ? mt : wall;
      const bucket = Math.floor(w / this.baseMs) * this.baseMs;
      if (bucket <= d0[s * W + F.OpenTime]!) continue;
      this.foldSymbol(s);
      d0[s * W + F.OpenTime] = bucket;
      for (let k = 0; k < this.nInt; k++) {
        const j = this.slotOf(s, k);
        if (w < this.slots.d[j * W + F.Next]! || (this.slots.d[j * W + F.Has] === 0 && !this.emptyKlines))
          continue;
        this.rollTo(j, k, openTime(this.specs[k]!, w), true);
      }
    }
  }

  pull(epoch: number, ackVersion: number, sinceVersion = ackVersion): PullView {
    const klines: KlineRecord[] = [];
    const head = this.pullRows(epoch, ackVersion, this.recordBuilder(klines), sinceVersion);
    return { epoch: head.epoch, version: head.version, full: head.full, klines };
  }

  pullRows(epoch: number, ackVersion: number, visitor: KlineRowVisitor, sinceVersion = ackVersion): PullHead {
    this.foldAll();
    const full = epoch !== this.epoch;
    if (full)
      return { epoch: this.epoch, version: this.version, full, count: this.visitChanged(-1, visitor) };
    this.dropAcked(ackVersion);
    const since = Math.max(ackVersion, sinceVersion);
    const count = this.visitChanged(since, visitor);
    this.log.truncate(since);
    return { epoch: this.epoch, version: this.version, full, count };
  }

  closeAll(): void {
    this.foldAll();
    for (let j = 0; j < this.slots.capacity; j++) {
      if (this.slots.d[j * W + F.Has] === 1) this.closeSlot(j);
    }
  }

  stats(): EngineStats {
    return {
      tradesIn: this.tradesIn,
      rejected: { ...this.rejected },
      lateAccepted: this.lateAccepted,
      gaps: this.ids.openGaps,
      missingTradeIds: this.ids.missing,
      openKlines: this.openCount,
      retainedClosed: this.closed.size,
      closedDropped: this.closedDropped,
      emptyKlinesSkipped: this.emptySkipped,
    };
  }

  private reject(reason: RejectReason): RejectReason {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    return reason;
  }

  /** A late trade (in scratch row 0, time t) of symbol s: applied to each interval's kline containing t. */
  private applyLate(s: number, t: number): void {
    this.foldSymbol(s); // slots current, so a late trade never moves a slot past pending trades
    const slots = this.slots;
    const scratch = this.scratch;
    for (let k = 0; k < this.nInt; k++) {
      const j = this.slotOf(s, k);
      const spec = this.specs[k]!;
      if (
        this.slots.d[j * W + F.Has] === 1 &&
        t >= slots.d[j * W + F.OpenTime]! &&
        t < this.slots.d[j * W + F.Next]!
      ) {
        slots.mergeRow(j, scratch, 0);
        this.stampSlot(j);
      } else if (t >= this.slots.d[j * W + F.Next]!) {
        this.startKline(j, k, openTime(spec, t), scratch, 0);
      } else {
        const o = openTime(spec, t);
        const rows = this.closed.rows;
        let r = this.closed.find(j, o);
        if (r >= 0) {
          rows.mergeRow(r, scratch, 0);
        } else {
          scratch.d[F.OpenTime] = o;
          r = this.closed.add(j, scratch, 0);
        }
        this.stampRow(r);
        this.propagateClose(j, r);
      }
    }
  }

  /**
   * After a late trade changed closed row r of slot j: the empty klines right
   * after it show its close (Binance's empty kline is O=H=L=C=previous close).
   */
  private propagateClose(j: number, r: number): void {
    const d = this.closed.rows.d;
    const price = d[r * W + F.Close]!;
    let n = d[r * W + F.Newer]!;
    for (; n >= 0 && d[n * W + F.Count] === 0; n = d[n * W + F.Newer]!) {
      if (d[n * W + F.Close] === price) return;
      this.closed.rows.setEmpty(n, d[n * W + F.OpenTime]!, price);
      this.stampRow(n);
    }
    if (n >= 0) return;
    const sd = this.slots.d;
    if (this.slots.d[j * W + F.Has] === 0) {
      sd[j * W + F.Close] = price; // the price the slot's next empty kline will show
    } else if (sd[j * W + F.Count] === 0 && sd[j * W + F.Close] !== price) {
      this.slots.setEmpty(j, sd[j * W + F.OpenTime]!, price);
      this.stampSlot(j);
    }
  }

  /**
   * Forgets closed klines that were acknowledged and can no longer change
   * (grace over), oldest first. A kline still needed goes to the back of the
   * queue; after REQUEUE_BUDGET of those the pass ends: O(dropped + budget).
   */
  private dropAcked(ack: number): void {
    const closed = this.closed;
    const d = closed.rows.d;
    let budget = Math.min(REQUEUE_BUDGET, closed.queued);
    while (closed.queued > 0) {
      const r = closed.oldest();
      const b = r * W;
      const j = d[b + F.Slot]!;
      const s = this.symbolOf(j);
      const close = nextOpenTime(this.specs[this.intervalOf(j)]!, d[b + F.OpenTime]!) - 1;
      const mt = this.maxTime[s]!;
      if (d[b + F.Version]! <= ack && close + this.graceMs < (mt > this.now ? mt : this.now)) {
        closed.removeOldest();
      } else {
        if (budget-- <= 0) return;
        closed.requeueOldest();
      }
    }
  }
}
