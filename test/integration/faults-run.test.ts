/**
 * Faults of a whole run, injected for real into `npm run e2e` on this machine (native only, so fast):
 *  - SIGKILL of the run's whole process group during a trial's measured step, a torn last line left in
 *    trials.jsonl, then a resume; meanwhile a second run of the stack is refused, naming the first;
 *  - Ctrl-C (SIGINT to the process group) during a trial;
 *  - the results disk fills up during the run (a small tmpfs mounted as the results root).
 * Each time: the trial is recorded as failed with the reason (or kept pending when the disk is full),
 * no trial starts after the fault stops the run, every record already written is intact, nothing of the
 * run is left running, and the next run completes only what is missing.
 *
 * Real infrastructure: run under `flock /work/realtest.lock`. Stacks faultc, faultc2, faultc3.
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { readAttempts, readTrials, readTrialsChecked } from "../../stacks/results.ts";
import { dedupeTrials } from "../../model/record.ts";
import { pendingFile } from "../../workloads/record-store.ts";
import type { Schedule } from "../../stacks/plan.ts";
import { processesUnder, stackFile, startE2e, trialDirs, trialSides, until, type Finished } from "../helpers/faults.ts";

const root = mkdtempSync(join(tmpdir(), "virtperf-faults-run-"));
const pendingDir = join(root, "pending");
const cpuset = cpus().length > 1 ? `0-${cpus().length - 1}` : "0";

/** A native-only stack of one's own: scratch (work roots) and results under `root`. */
function setup(stack: string, workloads: string[], repetitions: number, resultsRoot = join(root, stack, "results")) {
  const scratch = join(root, stack, "scratch");
  mkdirSync(scratch, { recursive: true });
  const config = stackFile(join(root, stack), stack, {
    host: "local", cpuset, memoryMiB: 1024, scratchDir: scratch, environments: ["native"], workloads,
    profile: "smoke", repetitions, seed: 5, resultsRoot,
  });
  const args = ["--stack", stack, "--config", config];
  const runDir = () => join(resultsRoot, stack, readdirSync(join(resultsRoot, stack)).find((d) => d.startsWith("run-"))!);
  return { args, workRoot: join(scratch, "work", `${stack}-native`), resultsRoot, runDir };
}

const env = { VIRTPERF_PENDING_DIR: pendingDir };

/** Every record line of the run parses, but for the `expectTorn` fragments; ok at most once per trial; none for an unplanned trial. */
function assertIntact(dir: string, expectTorn = 0): void {
  const read = readTrialsChecked(dir);
  assert.equal(read.skipped.length, expectTorn, JSON.stringify(read.skipped));
  assert.deepEqual(dedupeTrials(read.records).duplicates, [], "a trial was recorded ok twice");
  const schedule = JSON.parse(readFileSync(join(dir, "schedule.json"), "utf8")) as Schedule;
  for (const r of read.records) assert.ok(schedule.entries.some((e) => e.order === r.record.order && e.workload === r.record.workload), `unplanned record ${r.line}`);
}

/** The run finished and every scheduled trial has an ok record. */
function assertComplete(dir: string, run: Finished): void {
  assert.equal(run.code, 0, run.output);
  const schedule = JSON.parse(readFileSync(join(dir, "schedule.json"), "utf8")) as Schedule;
  const ok = readTrials(dir).filter((r) => r.status === "ok");
  for (const e of schedule.entries) assert.ok(ok.some((r) => r.order === e.order), `trial ${e.order} (${e.workload} r${e.rep}) has no ok record`);
}

const nothingLeft = async (dirs: string[]) => until(() => processesUnder(dirs).length === 0, 10_000);

describe("faults of a whole run (npm run e2e, native)", { timeout: 15 * 60_000 }, () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it("SIGKILL of the run during a measured step, a torn line, a second run refused; the resume runs only what is missing", async () => {
    const s = setup("faultc", ["redis", "xz"], 2);
    const first = startE2e(s.args, env);
    // A measured redis trial is running: its client (redis-benchmark) is at work against the server.
    await first.waitFor(/\] native redis r\d \.\.\. /);
    const busy = await until(() => {
      const sides = trialSides(s.workRoot, trialDirs(s.workRoot));
      const procs = processesUnder(sides);
      return procs.some((p) => p.comm === "redis-benchmark") && procs.some((p) => p.comm === "redis-server") ? sides : undefined;
    }, 60_000, 20);
    assert.ok(busy, `no redis trial caught at work:\n${first.output()}`);

    // Meanwhile a second run of the stack is refused, and names the first.
    const second = await startE2e(s.args, env).done;
    assert.notEqual(second.code, 0);
    assert.match(second.output, new RegExp(`a run of stack faultc is already running: pid ${first.child.pid} on \\S+, started \\S+: npm run e2e -- --stack faultc`));

    process.kill(-first.child.pid!, "SIGKILL");
    assert.equal((await first.done).signal, "SIGKILL");
    // The far side noticed its runner was gone: the workload, its server, its client all stopped.
    assert.ok(await nothingLeft(busy), `left running: ${JSON.stringify(processesUnder(busy))}`);
    const dir = s.runDir();
    assertIntact(dir);
    const attemptsBefore = readAttempts(dir);
    // A record torn by the kill (the write cut short): the next record must still be whole.
    appendFileSync(join(dir, "trials.jsonl"), '{"schema":"virtperf.trial/1","stack":"faultc","run":"x","envi');

    const resumed = await startE2e(s.args, env).done;
    assert.match(resumed.output, /resuming run run-[0-9a-f]{12}: \d+ of \d+ trials already ok/);
    assert.match(resumed.output, /warning: \S+trials\.jsonl:\d+ skipped: not valid JSON/);
    assertComplete(dir, resumed);
    assertIntact(dir, 1);
    // Trials ok before the kill did not run again.
    const attemptsAfter = readAttempts(dir);
    for (const [id, codes] of attemptsBefore) if (codes.includes(0)) assert.deepEqual(attemptsAfter.get(id), codes, `${id} ran again`);
    assert.ok(await nothingLeft(trialSides(s.workRoot, trialDirs(s.workRoot))));
    assert.equal(existsSync(join(s.resultsRoot, "faultc", ".lock")), false, "the lock was left behind");
  });

  it("Ctrl-C during a trial: no further trial, the running one recorded as interrupted, teardown; the next run completes it", async () => {
    const s = setup("faultc2", ["xz", "redis"], 2);
    const run = startE2e(s.args, env);
    await run.waitFor(/\] native redis r\d \.\.\. /);
    const busy = await until(() => {
      const sides = trialSides(s.workRoot, trialDirs(s.workRoot));
      return processesUnder(sides).some((p) => p.comm === "redis-benchmark") ? sides : undefined;
    }, 60_000, 20);
    assert.ok(busy, run.output());
    process.kill(-run.child.pid!, "SIGINT");
    const stopped = await run.done;
    console.log(stopped.output.split("\n").filter((l) => /^\[|SIGINT/.test(l)).map((l) => `# ${l}`).join("\n"));
    assert.equal(stopped.code, 130, stopped.output);
    assert.match(stopped.output, /SIGINT: stopping: no further trial/);
    assert.match(stopped.output, /^down host\/native-cgroup ok$/m);
    const dir = s.runDir();
    assertIntact(dir);
    const records = readTrials(dir);
    const started = stopped.output.match(/^\[\d+\/\d+\] /gm)!.length;
    assert.equal(records.length, started, "every trial started has its record, and none started after Ctrl-C");
    const last = records.at(-1)!;
    assert.equal(last.status, "failed");
    assert.match(last.error!.message, /trial interrupted \(SIGINT\)/);
    assert.ok(await nothingLeft(busy), JSON.stringify(processesUnder(busy)));

    const resumed = await startE2e(s.args, env).done;
    assertComplete(dir, resumed);
    assert.equal(readTrials(dir).length - records.length, Number(resumed.output.match(/done: (\d+) ok/)![1]), "only the missing trials ran");
  });

  it("the results disk fills up: the run stops cleanly, the record is kept pending, and the next run moves it in and completes", async () => {
    const mnt = join(root, "tmpfs");
    mkdirSync(mnt, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]);
    try {
      const s = setup("faultc3", ["xz"], 3, mnt);
      const run = startE2e(s.args, env);
      await run.waitFor(/^\[\d+\/3\] native xz r\d \.\.\. ok/m);
      // Fill the disk while the next trial's xz runs: after the folder was checked, before its output and record are written.
      const first = trialDirs(s.workRoot);
      await until(() => processesUnder(trialSides(s.workRoot, trialDirs(s.workRoot).filter((d) => !first.includes(d)))).some((p) => p.comm === "xz"), 30_000, 10);
      execFileSync("bash", ["-c", `dd if=/dev/zero of=${mnt}/filler bs=64k 2>/dev/null; true`]);
      const stopped = await run.done;
      console.log(stopped.output.split("\n").filter((l) => /^\[|stopped|cannot write/.test(l)).map((l) => `# ${l}`).join("\n"));
      assert.equal(stopped.code, 1, stopped.output);
      const dir = s.runDir();
      const pending = pendingFile(dir, env);
      assert.match(stopped.output, new RegExp(`stopped: the record of trial \\S+ could not be written to .*: kept in ${pending}`));
      assert.match(stopped.output, /^down host\/native-cgroup ok$/m);
      const started = stopped.output.match(/^\[\d+\/\d+\] /gm)!.length;
      const kept = readFileSync(pending, "utf8").trim().split("\n");
      assert.equal(kept.length, 1, "one record kept pending");
      const keptRecord = JSON.parse(kept[0]!) as { status: string; order: number; error: { message: string } };
      assert.equal(keptRecord.status, "failed");
      // Written during the run step: its raw output and then its record met the full disk (retried, then kept).
      assert.match(keptRecord.error.message, /ENOSPC: no space left on device/);
      assertIntact(dir);
      assert.equal(readTrials(dir).length, started - 1, "the records written before the disk filled are all there");
      assert.ok(await nothingLeft(trialSides(s.workRoot, trialDirs(s.workRoot))));

      rmSync(join(mnt, "filler"));
      const resumed = await startE2e(s.args, env).done;
      assert.match(resumed.output, /moved 1 record\(s\) kept pending by an earlier run/);
      assertComplete(dir, resumed);
      assertIntact(dir);
      assert.equal(existsSync(pending), false, "the pending file is gone once moved in");
      assert.ok(readTrials(dir).some((r) => r.order === keptRecord.order && r.status === "failed"), "the kept record is in trials.jsonl");
    } finally {
      execFileSync("umount", [mnt]);
    }
  });
});
