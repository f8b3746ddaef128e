/**
 * `npm run e2e` for real, short: native + docker + kvm (TCG here), two cheap workloads, smoke, two
 * repetitions. The first run is SIGKILLed (its whole process group, as a terminal's kill would) after
 * a few trials; the second run must resume into the same run, run only the missing trials, and leave
 * nothing behind (containers, volumes, domains, guest disks).
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readAttempts, readTrials } from "../../stacks/results.ts";
import type { Schedule } from "../../stacks/plan.ts";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const STACK = "e2etest";
const RESULTS = mkdtempSync(join(tmpdir(), "virtperf-e2e-"));
const ARGS = [
  "--import", "tsx", "cli/e2e.ts", "--stack", STACK, "--config", "Pulumi.dev.yaml", "--profile", "smoke",
  "--environments", "native,docker,kvm", "--workloads", "fio,nuttcp", "--repetitions", "2", "--seed", "3",
  "--results-root", RESULTS,
];
const KILL_AFTER = 3;

interface Finished { code: number | null; signal: string | null; output: string }

/** Runs e2e; with `killAfter`, SIGKILLs its process group once that many trials have finished. */
function runE2e(killAfter?: number): Promise<Finished> {
  return new Promise((done) => {
    const child = spawn("bin/node22", ARGS, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (b: Buffer) => {
      output += b.toString();
      const finished = output.match(/^\[\d+\/\d+\] .* (ok|FAILED) /gm)?.length ?? 0;
      if (killAfter !== undefined && finished >= killAfter) process.kill(-child.pid!, "SIGKILL");
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", (code, signal) => done({ code, signal, output }));
  });
}

const sh = (cmd: string) => execFileSync("bash", ["-c", cmd], { encoding: "utf8" }).trim();

describe("npm run e2e, killed and resumed", { timeout: 15 * 60_000 }, () => {
  let first: Finished, second: Finished, runDir: string;
  let attemptsAfterKill: Map<string, number[]>;

  before(async () => {
    sh(`bash ${ROOT}/scripts/services.sh`);
    first = await runE2e(KILL_AFTER);
    const runs = readdirSync(join(RESULTS, STACK));
    assert.equal(runs.length, 1, `one run folder, got ${runs.join(", ")}`);
    runDir = join(RESULTS, STACK, runs[0]!);
    attemptsAfterKill = readAttempts(runDir);
    second = await runE2e();
  });

  it("the first run was killed midway, the second finished", () => {
    assert.equal(first.signal, "SIGKILL", first.output);
    assert.match(second.output, /resuming run run-[0-9a-f]{12}: \d+ of \d+ trials already ok/);
    assert.match(second.output, /^done: /m, second.output);
  });

  it("every scheduled trial has a record and none was done twice", () => {
    const schedule = JSON.parse(readFileSync(join(runDir, "schedule.json"), "utf8")) as Schedule;
    const records = readTrials(runDir);
    for (const e of schedule.entries) {
      const mine = records.filter((r) => r.order === e.order);
      assert.ok(mine.length >= 1, `trial ${e.order} (${e.environment} ${e.workload}) has no record`);
      assert.ok(mine.filter((r) => r.status === "ok").length <= 1, `trial ${e.order} was ok twice`);
      assert.deepEqual([mine[0]!.environment, mine[0]!.workload, mine[0]!.rep], [e.environment, e.workload, e.rep]);
    }
    // Trials that were ok before the kill were not attempted again.
    const after = readAttempts(runDir);
    for (const [id, codes] of attemptsAfterKill) {
      if (codes.includes(0)) assert.deepEqual(after.get(id), codes, `${id} ran again after it was ok`);
    }
    assert.ok(records.some((r) => r.environment === "kvm" && r.acceleration === "tcg" || r.environment !== "kvm"));
  });

  it("writes facts, schedule and experiment", () => {
    for (const f of ["schedule.json", "experiment.json", "facts/host.json", "facts/docker.json", "facts/kvm.json"]) {
      assert.ok(existsSync(join(runDir, f)), `${f} missing`);
    }
  });

  it("teardown leaves nothing of the stack", () => {
    assert.equal(sh(`docker ps -a --filter label=virtperf.stack=${STACK} --format '{{.Names}}'`), "");
    assert.equal(sh(`docker volume ls --filter label=virtperf.stack=${STACK} --format '{{.Name}}'`), "");
    assert.equal(sh(`virsh -c qemu:///system list --all --name | grep -c '^virtperf-${STACK}-' || true`), "0");
    assert.equal(sh(`ls /var/lib/virtperf/guests 2>/dev/null | grep -c '^${STACK}-' || true`), "0");
  });
});
