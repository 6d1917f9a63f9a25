import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LineSplitter } from "./line-splitter.js";

function split(chunks: string[], max = 16): unknown[] {
  const s = new LineSplitter(max);
  const out: unknown[] = [];
  for (const c of chunks) out.push(...s.push(Buffer.from(c)));
  out.push(...s.end());
  return out;
}

describe("LineSplitter", () => {
  it("splits lines across chunk boundaries and strips CRLF", () => {
    assert.deepEqual(split(["ab", "c\nde", "f\r\n", "\ng"]), ["abc", "def", "", "g"]);
  });

  it("does not emit an extra empty line after a trailing newline", () => {
    assert.deepEqual(split(["a\nb\n"]), ["a", "b"]);
  });

  it("reports an overlong line with its full length and resumes at the next line", () => {
    const long = "x".repeat(40);
    assert.deepEqual(split([`ok\n${long.slice(0, 10)}`, long.slice(10), "\nnext\n"]), [
      "ok",
      { tooLong: true, bytes: 40 },
      "next",
    ]);
  });

  it("reports an overlong line contained in one chunk", () => {
    assert.deepEqual(split([`${"y".repeat(17)}\nz`]), [{ tooLong: true, bytes: 17 }, "z"]);
  });

  it("accepts a line of exactly the maximum length, with or without CR", () => {
    const l = "q".repeat(16);
    assert.deepEqual(split([`${l}\r\n${l}\n`]), [l, l]);
  });

  it("does not buffer the dropped part of an overlong line", () => {
    const s = new LineSplitter(1024);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 100; i++) assert.deepEqual(s.push(chunk), []);
    // 6.4 MB pushed without a newline; internal buffers must be empty (only a counter grows).
    const internals = s as unknown as { parts: Buffer[]; partLen: number };
    assert.equal(internals.parts.length, 0);
    assert.equal(internals.partLen, 0);
    assert.deepEqual(s.push(Buffer.from("\n")), [{ tooLong: true, bytes: 6_553_600 }]);
  });

  it("keeps multi-byte UTF-8 characters split across chunks intact", () => {
    const b = Buffer.from("é\n");
    const s = new LineSplitter(16);
    assert.deepEqual([...s.push(b.subarray(0, 1)), ...s.push(b.subarray(1))], ["é"]);
  });
});
