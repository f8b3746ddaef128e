/**
 * Faults of one trial, injected for real through `virtperf trial` on this machine (native):
 *  - a tool is missing (xz hidden in a private mount namespace of the trial shell: the machine keeps it);
 *  - a tool hangs past its limit (a hanging stand-in bind-mounted over xz the same way, --max-step-s 4);
 *  - the results folder cannot be written (a read-only tmpfs as --out).
 * Each time: a failed record with the reason (the unwritable folder's kept pending, then moved in by
 * the next trial once the folder takes writes), the next trial runs and is ok, every record already
 * written is intact, and nothing of the trial is left running.
 *
 * Real infrastructure (mounts): run under `flock /work/realtest.lock`.
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parseRecord, readTrialsFile, type TrialRecord } from "../../model/record.ts";
import { pendingFile } from "../../workloads/record-store.ts";
import type { TargetSpec } from "../../model/target.ts";
import type { EnvironmentDescription } from "../../model/environment.ts";
import { processesUnder, trialDirs, trialSides, until } from "../helpers/faults.ts";

const root = mkdtempSync(join(tmpdir(), "virtperf-faults-trial-"));
const work = join(root, "work");
const data = join(root, "data");
const env = { VIRTPERF_PENDING_DIR: join(root, "pending") };
mkdirSync(work);
mkdirSync(data);

/** A local target whose trial shell sees `file` bind-mounted over /usr/bin/xz (a private mount namespace). */
function overXz(file: string): TargetSpec {
  return { kind: "local", wrap: ["unshare", "--mount", "--propagation", "private", "bash", "-c", `mount --bind ${file} /usr/bin/xz && exec "$@"`, "virtperf-over-xz"] };
}

/** This machine as a native environment with the test's folders, reached through `target`. */
function native(target: TargetSpec = { kind: "local" }): string {
  const d: EnvironmentDescription = {
    name: "native", kind: "native", acceleration: "none", target, client: { kind: "local" }, host: { kind: "local" },
    ports: [], dataDir: data, workRoot: work, shape: { cpus: cpus().length, memoryMiB: Math.floor(totalmem() / 2 ** 20) },
  };
  return JSON.stringify(d);
}

async function trial(out: string, extra: string[] = [], target?: TargetSpec): Promise<{ code: number; record: TrialRecord; stderr: string; seconds: number }> {
  const t0 = performance.now();
  const r = await execa("bin/virtperf", ["trial", "--environment", native(target), "--workload", "xz", "--profile", "smoke", "--out", out,
    ...extra], { reject: false, env, timeout: 120_000 });
  return { code: r.exitCode ?? -1, record: parseRecord(r.stdout.trim(), { file: "stdout", line: 1 }), stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}

/** Every line of the folder's trials.jsonl is a whole record. */
function records(out: string): TrialRecord[] {
  const read = readTrialsFile(join(out, "trials.jsonl"));
  assert.deepEqual(read.skipped, []);
  return read.records.map((r) => r.record);
}

const nothingLeft = () => until(() => processesUnder(trialSides(work, trialDirs(work))).length === 0 && processesUnder([work]).length === 0, 10_000);

describe("faults of one trial (virtperf trial, native)", { timeout: 5 * 60_000 }, () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it("a missing tool: failed, naming the command and its Debian package; the next trial is ok", async () => {
    const out = join(root, "missing");
    const missing = await trial(out, [], overXz("/dev/null"));
    assert.equal(missing.code, 1, missing.stderr);
    assert.equal(missing.record.status, "failed");
    assert.match(missing.record.error!.message, /xz needs xz on local \(unshare .*\): install Debian package\(s\) xz-utils/);
    const next = await trial(out);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(records(out).map((r) => r.status), ["failed", "ok"]);
    assert.ok(await nothingLeft());
  });

  it("a tool that hangs past its limit: stopped at the limit, failed as timed out, nothing left; the next trial is ok", async () => {
    const out = join(root, "hang");
    const fake = join(root, "hanging-xz");
    writeFileSync(fake, `#!/bin/bash\ncase " $* " in *" --version "*) echo "xz (XZ Utils) 5.4.1 (a hanging stand-in)"; exit 0;; esac\nexec -a virtperf-hung-xz sleep 1000\n`);
    chmodSync(fake, 0o755);
    const hung = await trial(out, ["--max-step-s", "4"], overXz(fake));
    assert.equal(hung.code, 1, hung.stderr);
    assert.equal(hung.record.error!.timedOut, true, JSON.stringify(hung.record.error));
    assert.equal(hung.record.error!.exitCode, 124);
    assert.match(hung.record.error!.message, /xz run timed out after 4\.\d s/);
    assert.ok(hung.seconds < 30, `took ${hung.seconds} s`);
    const left = execFileSync("bash", ["-c", "pgrep -f '^virtperf-hung-xz' || true"], { encoding: "utf8" }).trim();
    assert.equal(left, "", "the hung tool is still running");
    const next = await trial(out);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(records(out).map((r) => r.status), ["failed", "ok"]);
    assert.ok(await nothingLeft());
  });

  it("the lifeline closed after a signal's name (e2e's Ctrl-C): recorded as interrupted by that signal; closed bare: the run went away", async () => {
    const fake = join(root, "slow-xz");
    writeFileSync(fake, `#!/bin/bash\ncase " $* " in *" --version "*) echo "xz (XZ Utils) 5.4.1 (a slow stand-in)"; exit 0;; esac\nexec -a virtperf-slow-xz sleep 60\n`);
    chmodSync(fake, 0o755);
    for (const [said, reason] of [["SIGINT\n", /^trial interrupted \(SIGINT\)/], ["", /^trial interrupted \(the run that started this trial went away\)/]] as const) {
      const out = join(root, `lifeline-${said ? "signal" : "bare"}`);
      const child = execa("bin/virtperf", ["trial", "--environment", native(overXz(fake)), "--workload", "xz", "--profile", "smoke", "--out", out],
        { reject: false, env: { ...env, VIRTPERF_TRIAL_LIFELINE: "stdin" }, stdin: "pipe", timeout: 120_000 });
      // Closed once the stand-in runs: the measured step is under way.
      assert.ok(await until(() => execFileSync("bash", ["-c", "pgrep -f '^virtperf-slow-xz' || true"], { encoding: "utf8" }).trim() !== "", 60_000));
      child.stdin!.end(said);
      const r = await child;
      assert.equal(r.exitCode, 1, r.stderr);
      const record = parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
      assert.equal(record.status, "failed");
      assert.match(record.error!.message, reason);
      assert.ok(await nothingLeft());
    }
  });

  it("an unwritable results folder: found before the trial runs, the record kept pending, moved in by the next trial", async () => {
    const out = join(root, "ro");
    mkdirSync(out);
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", out]);
    let mounted = true;
    try {
      const refused = await trial(out);
      assert.equal(refused.code, 3, refused.stderr);
      assert.equal(refused.record.status, "failed");
      assert.equal(refused.record.toolS, 0, "the trial did not run");
      assert.match(refused.record.error!.message, /^not run: results folder \S+ cannot be written \(EROFS/);
      const pending = pendingFile(out, env);
      assert.match(refused.stderr, new RegExp(`kept in ${pending}`));
      assert.equal(JSON.parse(readFileSync(pending, "utf8").trim()).startedAt, refused.record.startedAt);
      execFileSync("mount", ["-o", "remount,rw", out]);
      const next = await trial(out);
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stderr, /moved 1 pending record\(s\) into/);
      assert.deepEqual(records(out).map((r) => r.status), ["failed", "ok"]);
      assert.equal(existsSync(pending), false);
      execFileSync("umount", [out]);
      mounted = false;
    } finally {
      if (mounted) execFileSync("umount", [out]);
    }
  });
});
