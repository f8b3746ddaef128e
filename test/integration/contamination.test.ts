/**
 * Contamination checks for real (issue 9), native trials on this machine: a CPU hog that is not ours,
 * started beside a trial, flags it by name; a process left in the environment's work root by an earlier
 * trial is named and killed before the next one starts; a trial on a quiet host is not flagged.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, mkdir } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parseRecord, type TrialRecord } from "../../model/record.ts";
import { nativeDescription } from "../helpers/environments.ts";

async function trial(workRoot: string): Promise<TrialRecord> {
  const out = await mkdtemp(join(tmpdir(), "virtperf-contamination-"));
  const r = await execa("bin/virtperf", ["trial", "--environment", nativeDescription({ workRoot }), "--workload", "xz", "--profile", "smoke", "--out", out], { reject: false });
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  return parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
}

const hog = () => spawn("bash", ["-c", "exec -a virtperf-test-hog yes"], { detached: true, stdio: "ignore" });

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe("contamination checks around the run step", { timeout: 5 * 60_000 }, () => {
  it("a busy process that is not ours flags the trial and is named", async () => {
    const root = await mkdtemp(join(tmpdir(), "virtperf-work-"));
    // A hog in its own session, not a descendant of the runner: two of them, to be busy on either CPU.
    const hogs = [0, 1].map(() => spawn("bash", ["-c", "exec -a virtperf-test-hog yes"], { detached: true, stdio: "ignore" }));
    try {
      await new Promise((r) => setTimeout(r, 300));
      const rec = await trial(root);
      assert.equal(rec.contamination?.flagged, true, JSON.stringify(rec.contamination));
      assert.ok(rec.contamination!.busy.some((b) => b.comm === "yes" && b.cpuPct > 10), JSON.stringify(rec.contamination!.busy));
      assert.match(rec.contamination!.reasons.join("; "), /busy processes not ours: .*\byes \(pid \d+\)/);
    } finally {
      for (const h of hogs) process.kill(-h.pid!, "SIGKILL");
    }
  });

  it("a process of an earlier trial in the work root is named and killed before the trial", async () => {
    const root = await mkdtemp(join(tmpdir(), "virtperf-work-"));
    const old = join(root, "000-native-redis-r1-abc123");
    await mkdir(old);
    const leftover = spawn("bash", ["-c", "exec -a virtperf-leftover sleep 300"], { cwd: old, detached: true, stdio: "ignore" });
    // Under the root but not in a trial directory: not ours to kill.
    const other = join(root, "notes");
    await mkdir(other);
    const bystander = spawn("bash", ["-c", "exec -a virtperf-bystander sleep 300"], { cwd: other, detached: true, stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(alive(leftover.pid!) && alive(bystander.pid!));
    const rec = await trial(root);
    assert.equal(rec.contamination?.flagged, true);
    assert.match(rec.contamination!.leftovers.join("; "), new RegExp(`\\(pid ${leftover.pid}, in ${old}\\)`));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(alive(leftover.pid!), false, "the leftover still runs");
    assert.equal(alive(bystander.pid!), true, "a process outside any trial directory was killed");
    process.kill(bystander.pid!, "SIGKILL");
  });

  it("the trial's own processes never count (xz busy on both CPUs is not contamination), and the record keeps the numbers", async () => {
    const root = await mkdtemp(join(tmpdir(), "virtperf-work-"));
    const rec = await trial(root);
    const c = rec.contamination!;
    // Whatever else this machine runs meanwhile (the test cannot know), the workload itself is never named.
    assert.deepEqual(c.busy.filter((b) => ["xz", "timeout", "taskset", "env"].includes(b.comm)), [], JSON.stringify(c));
    assert.ok(c.loadBefore !== null && c.memAvailableMiB! > 0 && c.stealPct !== null);
  });

  it("--retry-contaminated: a flagged trial runs again until one is clean, every attempt recorded", async () => {
    const root = await mkdtemp(join(tmpdir(), "virtperf-work-"));
    const out = await mkdtemp(join(tmpdir(), "virtperf-contamination-"));
    const file = join(out, "trials.jsonl");
    const hogs = [hog(), hog()];
    await new Promise((r) => setTimeout(r, 300));
    const running = execa("bin/virtperf", ["trial", "--environment", nativeDescription({ workRoot: root }), "--workload", "xz", "--profile", "smoke",
      "--out", out, "--retry-contaminated", "3"], { reject: false });
    // The hogs go once the first (flagged) record is written: a later attempt runs on a quiet host.
    const killHogs = () => { for (const h of hogs) try { process.kill(-h.pid!, "SIGKILL"); } catch { /* gone */ } };
    const watch = setInterval(() => { if (existsSync(file) && readFileSync(file, "utf8").includes("\n")) killHogs(); }, 50);
    try {
      const r = await running;
      assert.equal(r.exitCode, 0, r.stderr);
      const records = readFileSync(file, "utf8").trim().split("\n").map((l, i) => parseRecord(l, { file, line: i + 1 }));
      assert.ok(records.length >= 2 && records.length <= 4, `${records.length} attempts`);
      assert.equal(records.at(-1)!.contamination?.flagged, false, JSON.stringify(records.at(-1)!.contamination));
      for (const rec of records.slice(0, -1)) assert.equal(rec.contamination?.flagged, true);
      assert.ok(records.every((rec) => rec.status === "ok" && rec.order === records[0]!.order));
      assert.match(r.stderr, /ran on a busy host \(busy processes not ours: .*yes.*\): running it again \(retry 1 of 3\)/);
    } finally {
      clearInterval(watch);
      killHogs();
    }
  });

  it("--retry-contaminated stops at its count: a host busy throughout keeps every flagged attempt, exit 0", async () => {
    const root = await mkdtemp(join(tmpdir(), "virtperf-work-"));
    const out = await mkdtemp(join(tmpdir(), "virtperf-contamination-"));
    const hogs = [hog(), hog()];
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = await execa("bin/virtperf", ["trial", "--environment", nativeDescription({ workRoot: root }), "--workload", "xz", "--profile", "smoke",
        "--out", out, "--retry-contaminated", "1"], { reject: false });
      assert.equal(r.exitCode, 0, r.stderr);
      const lines = readFileSync(join(out, "trials.jsonl"), "utf8").trim().split("\n");
      assert.equal(lines.length, 2);
      assert.ok(lines.every((l, i) => parseRecord(l, { file: "trials.jsonl", line: i + 1 }).contamination?.flagged === true));
    } finally {
      for (const h of hogs) process.kill(-h.pid!, "SIGKILL");
    }
  });
});
