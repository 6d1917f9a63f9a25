/**
 * Symbol-to-shard assignment by rendezvous (highest random weight) hashing.
 *
 * Pure and deterministic: the operator renders shards with it and workers use
 * it to pick their own symbols, so both always agree. Changing the shard count
 * from n to m moves only the symbols whose winning shard changed (about
 * |n-m|/max(n,m) of them), never a reshuffle of everything.
 */

/** 64-bit FNV-1a over UTF-16 code units, as two 32-bit halves mixed into a double-safe integer. */
function weight(symbol: string, shard: number): number {
  // Two independent 32-bit FNV-1a lanes give 53 usable bits without BigInt.
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ shard;
  const key = `${symbol}\u0000${shard}`;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  // Final avalanche (murmur3 fmix32) so nearby shard numbers decorrelate.
  h1 = fmix32(h1 ^ shard);
  h2 = fmix32(h2 ^ h1);
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** Returns the shard (0..shardCount-1) that owns `symbol`. */
export function shardOf(symbol: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  }
  let best = 0;
  let bestWeight = -1;
  for (let s = 0; s < shardCount; s++) {
    const w = weight(symbol, s);
    if (w > bestWeight) {
      bestWeight = w;
      best = s;
    }
  }
  return best;
}

/** Splits `symbols` into `shardCount` lists (input order kept inside each shard). */
export function assignShards(symbols: readonly string[], shardCount: number): string[][] {
  const shards: string[][] = Array.from({ length: shardCount }, () => []);
  for (const symbol of symbols) shards[shardOf(symbol, shardCount)]!.push(symbol);
  return shards;
}

/** The symbols of one shard. */
export function symbolsOfShard(symbols: readonly string[], shard: number, shardCount: number): string[] {
  if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) {
    throw new RangeError(`shard must be in 0..${shardCount - 1}, got ${shard}`);
  }
  return symbols.filter((s) => shardOf(s, shardCount) === shard);
}
