/**
 * The aggregation bench's peer baseline, tardis-dev's `computeTradeBars` (one
 * computable per symbol and interval; 30 days stands in for 1M, which tardis
 * lacks), run in a child process of its own: the bench alternates its rounds
 * with the engine's so both see the same machine load, and the ~100 MB of
 * objects a tardis-dev round leaves behind are collected in that process, not
 * during the engine's next round (V8's background sweeping counts in a
 * process's CPU time).
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { computeTradeBars } from "tardis-dev";
import { intervalLengthMs } from "../src/core/intervals.js";
import { INTERVALS } from "../src/core/types.js";
import { makeMarket, tardisTrades, type Market } from "./aggregate-market.js";

const CHILD_ENV = "KLAGG_BENCH_TARDIS_CHILD";

/**
 * Trades per CPU second of one tardis-dev round over the market (its input built for the round only), timed
 * from trade `from` on (the engine's steady-state window; the trades before it are fed untimed).
 */
export function runTardis(m: Market, from: number): number {
  const input = tardisTrades(m);
  const factories = INTERVALS.map((iv) =>
    computeTradeBars({ kind: "time", interval: intervalLengthMs(iv) || 30 * 86_400_000 }),
  );
  const bySymbol = new Map(m.symbols.map((s) => [s, factories.map((f) => f())]));
  let bars = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const feed = (a: number, b: number): void => {
    for (let i = a; i < b; i++) {
      const msg = input[i]!;
      const comps = bySymbol.get(msg.symbol)!;
      for (let k = 0; k < comps.length; k++) {
        for (const bar of comps[k]!.compute(msg)) if (bar !== undefined) bars++;
      }
    }
  };
  feed(0, from);
  const t0 = process.cpuUsage();
  feed(from, input.length);
  const u = process.cpuUsage(t0);
  if (bars === 0) throw new Error("tardis produced no bars");
  return (input.length - from) / ((u.user + u.system) / 1e6);
}

/** A child process that runs tardis-dev rounds over the same (seeded) market on request. */
export class TardisPeer {
  private constructor(private readonly child: ChildProcess) {}

  /** A peer over the first `trades` trades of the market, timed from trade `from` on. */
  static start(trades: number, from: number): TardisPeer {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, [CHILD_ENV]: `${trades},${from}` },
      execArgv: ["--expose-gc"],
    });
    return new TardisPeer(child);
  }

  /** Trades per second of one round, measured in the child. */
  round(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`tardis-dev peer exited (${code})`));
      this.child.once("exit", onExit);
      this.child.once("message", (rate) => {
        this.child.off("exit", onExit);
        resolve(Number(rate));
      });
      this.child.send("round");
    });
  }

  stop(): void {
    this.child.kill();
  }
}

if (process.env[CHILD_ENV] !== undefined) {
  const [trades = 0, from = 0] = process.env[CHILD_ENV].split(",").map(Number);
  const market = makeMarket(trades);
  process.on("message", () => {
    const rate = runTardis(market, from);
    // Collect the round's garbage and let V8's background threads finish before the engine's next round.
    (globalThis as { gc?: () => void }).gc?.();
    setTimeout(() => process.send!(rate), 200);
  });
}
