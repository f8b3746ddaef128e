/**
 * `npm run e2e` for real, short: native + docker + kvm (TCG here), two cheap workloads, smoke, two
 * repetitions. The first run is SIGKILLed (its whole process group, as a terminal's kill would) after
 * a few trials; the second run must resume into the same run, run only the missing trials, and leave
 * nothing behind (containers, volumes, domains, guest disks).
 *
 * Both runs start from a poisoned shell (issue 9): OPENBLAS_CORETYPE, OMP_NUM_THREADS, LD_PRELOAD,
 * MALLOC_ARENA_MAX and friends set, and a PATH whose first directory holds a fake `fio` and `nuttcp`
 * that print garbage. None of it may reach a trial in any environment: every record's context shows
 * the same declared environment, and the trials ran the real tools.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readAttempts, readTrials } from "../../stacks/results.ts";
import { TRIAL_ENV } from "../../workloads/runner/parity.ts";
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

const POISON_BIN = mkdtempSync(join(tmpdir(), "virtperf-poison-bin-"));
for (const tool of ["fio", "nuttcp"]) {
  writeFileSync(join(POISON_BIN, tool), "#!/bin/sh\necho POISONED-PATH; exit 0\n", { mode: 0o755 });
}
const POISON: Record<string, string> = {
  OPENBLAS_CORETYPE: "Haswell", OPENBLAS_L2_SIZE: "512", OPENBLAS_NUM_THREADS: "7", OMP_NUM_THREADS: "7",
  GOMP_CPU_AFFINITY: "0", MALLOC_ARENA_MAX: "1", LD_PRELOAD: "libvirtperf-poison.so", LD_LIBRARY_PATH: "/nonexistent-poison",
  TMPDIR: "/nonexistent-poison", LANG: "tr_TR.UTF-8", TZ: "Pacific/Kiritimati", VIRTPERF_POISON: "yes",
  PATH: `${POISON_BIN}:${process.env.PATH}`,
};

interface Finished { code: number | null; signal: string | null; output: string }

/** Runs e2e; with `killAfter`, SIGKILLs its process group once that many trials have finished. */
function runE2e(killAfter?: number): Promise<Finished> {
  return new Promise((done) => {
    const child = spawn("bin/node22", ARGS, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...POISON } });
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
    const runs = readdirSync(join(RESULTS, STACK)).filter((d) => d.startsWith("run-")); // not the stack lock (.lock)
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

  it("the caller's environment reached no trial: every environment ran with the declared one, the real tools", () => {
    const records = readTrials(runDir).filter((r) => r.status === "ok");
    const declared = Object.entries(TRIAL_ENV).map(([k, v]) => `${k}=${v}`).sort().join(" ");
    for (const kind of ["native", "docker", "kvm"]) assert.ok(records.some((r) => r.kind === kind), `no ok ${kind} trial`);
    for (const r of records) {
      const what = `${r.environment} ${r.workload} r${r.rep}`;
      for (const side of [r.context?.env, r.context?.client]) {
        if (!side) continue;
        assert.equal(side.env, declared, `${what}: the trial shell's environment`);
        assert.doesNotMatch(side.env, /POISON|OPENBLAS|OMP_|LD_PRELOAD|MALLOC/);
        assert.match(side.limits, /^nofile=4096 stack=8192 memlock=64 core=0 nproc=16384$/, `${what}: limits`);
        assert.equal(side.nice, "0");
      }
      assert.ok(r.context?.env, `${what}: no context recorded`);
      assert.notEqual(r.tool.version, "POISONED-PATH", `${what} ran the fake tool`);
    }
    // The BLAS kernel OpenBLAS picks is the same in every environment whose CPU model is the host's (not the guest's Nehalem).
    const cores = new Set(records.filter((r) => r.kind !== "kvm").map((r) => r.context!.env.blas.replace(/^\S+ /, "")));
    assert.equal(cores.size, 1, [...cores].join(" | "));
    assert.doesNotMatch([...cores][0]!, /core=Haswell/);
  });

  it("says which acceleration each guest got, and why", () => {
    assert.match(second.output, /^kvm: (TCG|KVM) \((KVM proven|KVM not usable, so QEMU TCG: (cpu-virt|kvm-device|qemu-user|kvm-boot))/m);
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
