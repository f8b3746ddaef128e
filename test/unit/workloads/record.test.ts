/** The one reader of trials.jsonl (workloads/record.ts): bad lines and files are skipped and listed, never thrown. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dedupeTrials, parseTrialsText, printable, readTrialsFile } from "../../../model/record.ts";
import { drawRecord, seededRng } from "../../fixtures/records/generate.ts";

const rng = seededRng(3);
const rec = (order: number, status: "ok" | "failed" = "ok") => drawRecord(rng, {
  environment: "native", kind: "native", workload: "xz", rep: 1, order, status,
  cases: [{ case: "compress", params: {}, metrics: [{ name: "throughput", unit: "MB/s", better: "higher", median: 20, sigma: 0.01 }] }],
});
const good = JSON.stringify(rec(0));

describe("parseTrialsText: a bad line anywhere is skipped with file:line and why", () => {
  const table = [
    { name: "torn last line", text: `${good}\n${good.slice(0, 30)}`, kept: 1, line: 2, reason: /not valid JSON/ },
    { name: "torn middle line", text: `${good.slice(0, 30)}\n${good}\n`, kept: 1, line: 1, reason: /not valid JSON/ },
    { name: "unknown schema", text: `${good}\n${good.replace("virtperf.trial/1", "virtperf.trial/9")}\n`, kept: 1, line: 2, reason: /unknown schema "virtperf\.trial\/9"/ },
    { name: "wrong field type", text: `${good.replace('"rep":1', '"rep":"one"')}\n${good}`, kept: 1, line: 1, reason: /field "rep"/ },
    { name: "ANSI escapes in a bad line are made visible", text: `\u001b[31m{bad\n${good}`, kept: 1, line: 1, reason: /^[^\u001b]*$/ },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = parseTrialsText(t.text, "t.jsonl");
      assert.equal(r.records.length, t.kept);
      assert.equal(r.skipped.length, 1);
      assert.equal(r.skipped[0]!.line, t.line);
      assert.match(r.skipped[0]!.reason, t.reason);
    });
  }
  it("blank lines are not problems", () => assert.deepEqual(parseTrialsText(`\n${good}\n\n`, "t").skipped, []));
});

describe("readTrialsFile: the file type is checked before opening", () => {
  const dir = mkdtempSync(join(tmpdir(), "virtperf-reader-"));
  it("a missing file is an empty run", () => assert.deepEqual(readTrialsFile(join(dir, "none.jsonl")), { records: [], skipped: [] }));
  it("a directory named trials.jsonl is skipped whole (line 0), not an EISDIR", () => {
    mkdirSync(join(dir, "trials.jsonl"));
    const r = readTrialsFile(join(dir, "trials.jsonl"));
    assert.equal(r.skipped[0]!.line, 0);
    assert.match(r.skipped[0]!.reason, /is a directory, not a regular file/);
  });
  it("a FIFO is never opened (that would block until a writer comes)", () => {
    const fifo = join(dir, "fifo.jsonl");
    execFileSync("mkfifo", [fifo]);
    assert.match(readTrialsFile(fifo).skipped[0]!.reason, /FIFO/);
  });
  it("a device is refused", () => assert.match(readTrialsFile("/dev/null").skipped[0]!.reason, /device/));
  it("a regular file reads", () => {
    writeFileSync(join(dir, "ok.jsonl"), `${good}\n`);
    assert.equal(readTrialsFile(join(dir, "ok.jsonl")).records.length, 1);
  });
});

describe("dedupeTrials: a trial counts once", () => {
  const at = (r: ReturnType<typeof rec>, line: number) => ({ record: r, file: "t.jsonl", line });
  it("a second ok record of the same trial is a duplicate; failed attempts before an ok are retries", () => {
    const ok = rec(1);
    const d = dedupeTrials([at(rec(1, "failed"), 1), at(ok, 2), at({ ...ok }, 3), at(rec(2), 4)]);
    assert.deepEqual(d.records.map((r) => r.line), [2, 4]);
    assert.deepEqual(d.duplicates.map((x) => x.line), [3]);
    assert.match(d.duplicates[0]!.reason, /the same trial as t\.jsonl:2, counted once/);
    assert.equal(d.retried, 1);
  });
  it("a trial whose every attempt failed counts as one failed trial", () => {
    const d = dedupeTrials([at(rec(5, "failed"), 1), at({ ...rec(5, "failed"), startedAt: "2026-01-01T01:00:00.000Z" }, 2)]);
    assert.deepEqual(d.records.map((r) => r.line), [2]);
    assert.equal(d.retried, 1);
  });
  // Attempts of one trial (order 7), each started a minute after the one before.
  const attempt = (minute: number, how: "clean" | "flagged" | "failed") => {
    const r = rec(7, how === "failed" ? "failed" : "ok");
    const contamination = { flagged: how === "flagged", reasons: how === "flagged" ? ["busy processes not ours: yes (pid 4711) 98 % of a CPU"] : [], loadBefore: 0.1, loadAfter: 1.2, stealPct: 0, busy: [], memAvailableMiB: 9000, memPressurePct: 0, cpuMHz: null, leftovers: [] };
    return { ...r, startedAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(), contamination };
  };
  const choices = [
    { name: "a clean retry replaces a flagged attempt", attempts: ["flagged", "clean"], used: 2, superseded: [1], retried: 0 },
    { name: "a clean attempt is kept over a later flagged one", attempts: ["clean", "flagged"], used: 1, superseded: [2], retried: 0 },
    { name: "a flagged attempt is kept over a later failed one", attempts: ["flagged", "failed"], used: 1, superseded: [], retried: 1 },
    { name: "of two flagged attempts the later one", attempts: ["flagged", "flagged"], used: 2, superseded: [1], retried: 0 },
    { name: "of two clean attempts the later one", attempts: ["clean", "clean"], used: 2, superseded: [1], retried: 0 },
    { name: "three attempts: the clean one, whatever its place", attempts: ["flagged", "clean", "flagged"], used: 2, superseded: [1, 3], retried: 0 },
  ] as const;
  for (const c of choices) {
    it(`${c.name} (ok and clean, then ok, then the latest)`, () => {
      const d = dedupeTrials(c.attempts.map((how, i) => at(attempt(i, how), i + 1)));
      assert.deepEqual(d.records.map((r) => r.line), [c.used]);
      assert.deepEqual(d.superseded.map((s) => s.record.line).sort(), [...c.superseded]);
      for (const s of d.superseded) assert.equal(s.by.line, c.used);
      assert.deepEqual([d.retried, d.duplicates.length], [c.retried, 0]);
    });
  }
});

describe("printable", () => {
  it("escapes ESC, CR, NUL and C1 controls", () => assert.equal(printable("a\u001b[2Jb\r\u0000\u009b"), "a\\x1b[2Jb\\x0d\\x00\\x9b"));
});
