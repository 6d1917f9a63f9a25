/**
 * Finds processes started by a `klagg local` test run: the test sets
 * KLAGG_TEST_MARKER in the environment of `klagg local`, which its workers
 * inherit; scanning /proc for it finds leftovers without touching anyone
 * else's processes.
 */
import { readdir, readFile } from "node:fs/promises";

/** Pids of live processes whose environment has KLAGG_TEST_MARKER=`marker`. */
export async function leftoverProcesses(marker: string): Promise<number[]> {
  const needle = `KLAGG_TEST_MARKER=${marker}\0`;
  const out: number[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const env = await readFile(`/proc/${d}/environ`, "latin1");
      if ((env + "\0").includes(needle)) out.push(Number(d));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}
