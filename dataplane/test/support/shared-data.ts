/**
 * Locates the shared real-data directory (`../shared/data/binance` relative to
 * the repository root) from the test file's location or the working
 * directory, whichever finds it; fails with a clear message otherwise.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function find(): string | undefined {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      const candidate = join(dir, "..", "shared", "data", "binance");
      if (existsSync(join(candidate, "README.md"))) return resolve(candidate);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

let cached: string | undefined;

/** Absolute path of a file under shared/data/binance, e.g. `binanceData("ws-captures/spot-btcusdt-20240808.gz")`. */
export function binanceData(rel: string): string {
  cached ??= find();
  if (cached === undefined) {
    throw new Error("shared data not found: expected ../shared/data/binance next to the repository root");
  }
  return join(cached, rel);
}
