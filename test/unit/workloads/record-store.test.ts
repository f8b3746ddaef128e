/**
 * Writing trial records (issue 10): whole lines, after a torn one too; fsynced appends that leave no
 * fragment when they fail; an unwritable folder found before a trial; records kept pending and moved in.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendLine, flushPending, keepPending, outProblem, pendingFile, writeRecord } from "../../../workloads/record-store.ts";
import { readTrialsFile } from "../../../model/record.ts";

const record = (order: number) => JSON.stringify({ schema: "virtperf.trial/1", order });

describe("record store", () => {
  let saved: string | undefined;
  before(() => {
    saved = process.env["VIRTPERF_PENDING_DIR"];
    process.env["VIRTPERF_PENDING_DIR"] = mkdtempSync(join(tmpdir(), "virtperf-pending-"));
  });
  after(() => { if (saved === undefined) delete process.env["VIRTPERF_PENDING_DIR"]; else process.env["VIRTPERF_PENDING_DIR"] = saved; });

  it("after a torn last line (a writer killed mid-write), the next record starts a line of its own", () => {
    const file = join(mkdtempSync(join(tmpdir(), "virtperf-store-")), "trials.jsonl");
    writeFileSync(file, `${record(0)}\n{"schema":"virtperf.tri`);
    appendLine(file, record(1));
    assert.deepEqual(readFileSync(file, "utf8").split("\n"), [record(0), '{"schema":"virtperf.tri', record(1), ""]);
    // (These stand-in lines are not full records; only the fragment is not even JSON.)
    const torn = readTrialsFile(file).skipped.filter((s) => /not valid JSON/.test(s.reason));
    assert.deepEqual(torn.map((s) => s.line), [2], "the fragment alone is skipped, and reported with its line");
  });

  it("a folder that cannot be written is found before the trial, with the reason", () => {
    assert.match(outProblem("/dev/null/results") ?? "", /results folder \/dev\/null\/results cannot be written \(ENOTDIR/);
    assert.equal(outProblem(mkdtempSync(join(tmpdir(), "virtperf-store-"))), undefined);
  });

  it("a record that cannot be appended is retried, kept pending, and moved in (once) when the folder can take it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "virtperf-store-"));
    const out = join(dir, "run");
    writeFileSync(out, "a file where the folder should be");
    const w = await writeRecord(out, record(5), { attempts: 2, delayMs: 10 });
    assert.equal(w.written, false);
    assert.ok(!w.written && w.pending === pendingFile(out) && /cannot append/.test(w.reason));
    assert.equal(readFileSync(pendingFile(out).replace(/\.jsonl$/, ".out"), "utf8").trim(), out);
    assert.equal(flushPending(out).problem !== undefined, true, "still not writable: stays pending");
    assert.ok(existsSync(pendingFile(out)));
    // The folder is fixed; one line of the pending file is already in (a flush cut short): not twice.
    await import("node:fs").then((fs) => { fs.rmSync(out); fs.mkdirSync(out); fs.writeFileSync(join(out, "trials.jsonl"), `${record(4)}\n`); });
    keepPending(out, record(4));
    assert.deepEqual(flushPending(out), { moved: 1 });
    assert.equal(existsSync(pendingFile(out)), false);
    assert.deepEqual(readFileSync(join(out, "trials.jsonl"), "utf8").trim().split("\n").sort(), [record(4), record(5)]);
    assert.deepEqual(flushPending(out), { moved: 0 });
  });
});
