/**
 * The SSH host goes away during a trial, for real: a stack whose host is our own sshd on 127.0.0.1,
 * its planned steps and trials run as `pulumi up` would (local steps with bash, host steps over ssh,
 * each trial's command in order). While a trial's measured step runs (sockperf, server and client both
 * on the SSH host), every sshd process is killed: the listener and each connection's. Then the trial is
 * recorded as failed with the reason, the far side's workload and server stop by themselves (their
 * lifeline was the SSH session), the next trial is recorded as failed quickly (connection refused), the
 * records are intact, and once sshd is back the next run runs only the trials that are not ok.
 *
 * Real infrastructure (sshd): run under `flock /work/realtest.lock`. Skipped where sshd cannot run.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { freePort, sshdUsable, startSshd } from "../helpers/sshd.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parseExperiment } from "../../stacks/config.ts";
import { plan } from "../../stacks/planner.ts";
import { commandArgs } from "../../stacks/command-chain.ts";
import { hostSshTarget } from "../../stacks/host-address.ts";
import { readAttempts, readTrialsChecked, trialStates } from "../../stacks/results.ts";
import { sshArgs } from "../../lib/ssh.ts";
import { KVM_NOT_USABLE } from "../helpers/kvm-proofs.ts";
import { processesUnder, ROOT, trialDirs, trialSides, until } from "../helpers/faults.ts";

const usable = sshdUsable;
const STACK = "faultcssh";


/** The sshd processes of our listener: itself and each connection's (never the commands they run). */
function sshdProcesses(listener: number): number[] {
  const parent = new Map<number, number>(), comm = new Map<number, string>();
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      comm.set(Number(d), stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")));
    } catch { /* gone */ }
  }
  const under = (pid: number): boolean => pid === listener || (pid > 1 && parent.has(pid) && under(parent.get(pid)!));
  return [...comm.entries()].filter(([pid, c]) => c === "sshd" && under(pid)).map(([pid]) => pid);
}

describe("the SSH host goes away during a trial", { skip: usable ? false : "needs root and /usr/sbin/sshd", timeout: 10 * 60_000 }, () => {
  let dir: string, port: number;
  let sshd: ChildProcess | undefined;
  let p: ReturnType<typeof plan>;
  const cpu = execFileSync("bash", ["-c", "taskset -cp $$ | sed 's/.*: //'"], { encoding: "utf8" }).trim().split(/[,-]/)[0]!;
  const probe = { cpus: [Number(cpu)], memoryMiB: 24105, kvm: KVM_NOT_USABLE, threadsPerCore: 1 };
  const trialRun = (i: number) => execa("bash", ["-c", p.trials[i]!.command], { cwd: ROOT, reject: false, all: true, timeout: 300_000 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "virtperf-faults-ssh-"));
    for (const k of ["host_key", "client_key"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, k)]);
    port = await freePort();
    sshd = await startSshd(dir, port);
    const x = parseExperiment({
      host: { host: "127.0.0.1", user: "root", port, privateKeyFile: join(dir, "client_key"), hostPublicKey: readFileSync(join(dir, "host_key.pub"), "utf8").trim() },
      environments: ["native"], workloads: ["rr"], profile: "smoke", repetitions: 3, cpuset: cpu, memoryMiB: 512,
      scratchDir: join(dir, "scratch"), resultsRoot: join(dir, "results"),
    }, STACK, probe, { keysDir: join(dir, "keys") });
    p = plan(x, probe);
    const a = p.experiment.host.address;
    if (a.kind !== "ssh") throw new Error("not an ssh host");
    for (const c of commandArgs(p.host.commands, a)) {
      const create: string = c.create;
      const argv: string[] = c.via === "local" ? ["bash", "-c", create] : ["ssh", ...sshArgs(hostSshTarget(a)), create];
      const r = await execa(argv[0]!, argv.slice(1), { reject: false, all: true });
      assert.equal(r.exitCode, 0, `${c.role}: ${r.all}`);
    }
  });

  after(() => {
    if (sshd?.pid) for (const pid of sshdProcesses(sshd.pid)) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  });

  it("fails the trial with the reason, stops the far side, fails the next one fast; the next run runs only what is missing", async () => {
    assert.equal(p.trials.length, 3);
    const workRoot = p.environments[0]!.workRoot;
    const first = await trialRun(0);
    assert.equal(first.exitCode, 0, first.all);

    // Trial 2: kill every sshd process while sockperf's ping-pong runs on the host.
    const before = trialDirs(workRoot);
    const second = trialRun(1);
    const busy = await until(() => {
      const sides = trialSides(workRoot, trialDirs(workRoot).filter((d) => !before.includes(d)));
      const procs = processesUnder(sides);
      return procs.filter((q) => q.comm === "sockperf").length >= 2 ? sides : undefined;
    }, 60_000, 20);
    assert.ok(busy, "no sockperf client and server caught at work");
    const killed = sshdProcesses(sshd!.pid!);
    for (const pid of killed) process.kill(pid, "SIGKILL");
    const t0 = performance.now();
    assert.equal((await second).exitCode, 0, "the trial command goes on (its record says failed)");
    console.log(`# killed ${killed.length} sshd processes; trial 2 ended ${((performance.now() - t0) / 1000).toFixed(1)} s later`);
    assert.ok(await until(() => processesUnder(busy).length === 0, 10_000), `left running on the host: ${JSON.stringify(processesUnder(busy))}`);

    // Trial 3: the host does not answer at all.
    const t1 = performance.now();
    assert.equal((await trialRun(2)).exitCode, 0);
    const third = (performance.now() - t1) / 1000;
    assert.ok(third < 30, `trial 3 took ${third} s`);

    const read = readTrialsChecked(p.resultsDir);
    assert.deepEqual(read.skipped, []);
    const records = read.records.map((r) => r.record);
    assert.deepEqual(records.map((r) => [r.order, r.status]), [[0, "ok"], [1, "failed"], [2, "failed"]]);
    assert.match(records[1]!.error!.message, /exit code 255|killed|Connection/);
    assert.match(`${records[2]!.error!.message}\n${records[2]!.error!.stderrTail}`, /Connection refused/);

    // sshd is back: the next run runs exactly the trials that are not ok.
    sshd = await startSshd(dir, port);
    const states = trialStates(p.trials, records, readAttempts(p.resultsDir));
    const todo = states.filter((s) => s.status !== "ok").map((s) => s.trial.order);
    assert.deepEqual(todo, [1, 2]);
    for (const i of todo) assert.equal((await trialRun(i)).exitCode, 0);
    const after = readTrialsChecked(p.resultsDir);
    assert.deepEqual(after.skipped, []);
    assert.deepEqual(trialStates(p.trials, after.records.map((r) => r.record), readAttempts(p.resultsDir)).map((s) => s.status), ["ok", "ok", "ok"]);
    assert.equal(readAttempts(p.resultsDir).get(p.trials[0]!.id)!.length, 1, "trial 1 ran once");
  });
});
