/**
 * What each worker's symbol refs mean in the gateway's layout. A worker sends,
 * per kline, the index of its symbol in the worker's own symbol list (PullChunk
 * `symbol_refs`); the list comes with the worker's full answer and is fixed for
 * its epoch. Mapping a ref is one array read where looking the symbol up by its
 * bytes is a hash and a probe into a table spread over the whole layout. The
 * state still confirms every mapped symbol against the kline's bytes
 * (`GlobalState.slotOfRaw`): a wrong ref costs a lookup, never a wrong slot.
 */
import type { PullResult } from "./ports.js";
import type { StateLayout } from "./state-layout.js";

/** No usable refs: every kline is looked up by its symbol bytes. */
export const NO_SYMBOL_REFS: Int32Array = new Int32Array(0);

/** Per worker, ref -> layout symbol index (-1: not in the layout) for the epoch of its last full answer. */
export class SymbolRefMaps {
  private readonly epochs: number[] = [];
  private readonly maps: Int32Array[] = [];

  constructor(private readonly layout: StateLayout) {}

  /**
   * The map that answer `r` of worker `w` refers to: rebuilt from `r`'s symbols when it is a full answer,
   * the map of `r`'s epoch when one was built, else `NO_SYMBOL_REFS` (no full answer of that epoch seen).
   */
  forAnswer(w: number, r: PullResult): Int32Array {
    if (r.full) {
      const map = new Int32Array(r.symbols.length);
      for (let i = 0; i < map.length; i++) map[i] = this.layout.symbolOf(r.symbols[i]!);
      this.maps[w] = map;
      this.epochs[w] = r.epoch;
      return map;
    }
    return this.epochs[w] === r.epoch ? this.maps[w]! : NO_SYMBOL_REFS;
  }
}
