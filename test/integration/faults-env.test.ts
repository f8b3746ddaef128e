/**
 * An environment dies during a trial, for real, in `npm run e2e`: a Docker container (bridge network)
 * is killed (`docker kill`) while xz runs in it, and a KVM guest (TCG here) is shut down (`virsh destroy`)
 * while xz runs in it. Each time: the trial is recorded as failed with the reason, every later trial
 * still runs (those of the dead environment fail fast: the container is not running, the guest has no
 * address), every record already written is intact, nothing of the run is left running, and the next
 * run (which brings both up again) runs only the trials that are not ok. The second run also proves the
 * servers' new binding: redis listens on the bridge container's own address (NAT from the host's
 * loopback, a per-trial password) and on the guest's address.
 *
 * Real infrastructure (Docker, libvirt, a guest boot under TCG): run under `flock /work/realtest.lock`.
 * Stack faultc4: only its own containers and domains are touched.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { stackConfig } from "../../cli/e2e.ts";
import { parseExperiment } from "../../stacks/config.ts";
import { plan } from "../../stacks/planner.ts";
import { probeHost } from "../../stacks/host-probe.ts";
import { readAttempts, readTrials, readTrialsChecked } from "../../stacks/results.ts";
import { connect } from "../../workloads/runner/targets.ts";
import type { TrialRecord } from "../../model/record.ts";
import type { Schedule } from "../../stacks/plan.ts";
import { KVM_NOT_USABLE } from "../helpers/kvm-proofs.ts";
import { stackFile, startE2e, until } from "../helpers/faults.ts";

const STACK = "faultc4";
const root = mkdtempSync(join(tmpdir(), "virtperf-faults-env-"));
const cpuset = cpus().length > 1 ? `0-${cpus().length - 1}` : "0";
const config = stackFile(root, STACK, {
  host: "local", cpuset, memoryMiB: 1536, scratchDir: "/var/lib/virtperf", environments: ["docker", "kvm"],
  // Seed 4's order: docker redis (warm-up, r1), kvm xz, docker xz, kvm redis (warm-up, r1): ok trials first, then both
  // faults, then trials on a guest that is gone (unreachable at their start).
  workloads: ["xz", "redis"], profile: "smoke", repetitions: 1, seed: 4, acceleration: "auto", resultsRoot: join(root, "results"),
});
const args = ["--stack", STACK, "--config", config];
const p = plan(parseExperiment(stackConfig({ stack: STACK, config }), STACK, probeHost()), { ...probeHost(), kvm: KVM_NOT_USABLE });
const docker = p.environments.find((e) => e.def.name === "docker")!.target as { kind: "docker"; container: string };
const guest = p.environments.find((e) => e.def.name === "kvm")!.target as { kind: "guest"; domain: string };

const sh = (cmd: string) => execFileSync("bash", ["-c", cmd], { encoding: "utf8" }).trim();

/** Host processes of ours: any whose command line names this stack's container or domain (docker exec, ssh clients). */
function clientsOfTheStack(): string[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid).flatMap((d) => {
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ");
      return cmd.includes(`virtperf-${STACK}-`) && !cmd.includes("node_modules/.bin/tsc") ? [`${d}: ${cmd.slice(0, 120)}`] : [];
    } catch {
      return [];
    }
  });
}

/** Pids of host processes named `comm` in this container's cgroup. */
function inContainer(id: string, comm: string): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return readFileSync(`/proc/${d}/comm`, "utf8").trim() === comm && readFileSync(`/proc/${d}/cgroup`, "utf8").includes(id);
    } catch {
      return false;
    }
  }).map(Number);
}

const byTrial = (records: readonly TrialRecord[], env: string, workload: string) => records.filter((r) => r.environment === env && r.workload === workload && !r.warmup);

describe("a container killed and a guest shut down during trials (npm run e2e, docker + kvm)", { timeout: 25 * 60_000 }, () => {
  let dir: string;
  before(() => { sh("bash scripts/services.sh"); });
  after(() => {
    // Whatever happened, nothing of the stack stays up.
    sh(`docker rm -f ${docker.container} >/dev/null 2>&1; virsh -c qemu:///system destroy ${guest.domain} >/dev/null 2>&1; true`);
    rmSync(root, { recursive: true, force: true });
  });

  it("the faulted trials fail with the reason, later trials still run, records intact, nothing left", async () => {
    const run = startE2e(args);
    const faults: Promise<void>[] = [];
    // The container: killed once xz runs in it.
    faults.push(run.waitFor(/\] docker xz r1 \.\.\. /, 15 * 60_000).then(async () => {
      const id = sh(`docker inspect --format '{{.Id}}' ${docker.container}`);
      assert.ok(await until(() => inContainer(id, "xz").length > 0, 60_000, 20), "xz never ran in the container");
      sh(`docker kill ${docker.container}`);
    }));
    // The guest: destroyed once xz runs in it (seen from inside, over its own pinned SSH).
    faults.push(run.waitFor(/\] kvm xz r1 \.\.\. /, 15 * 60_000).then(async () => {
      const g = connect(guest as never);
      let seen = false;
      for (let i = 0; i < 120 && !seen; i++) seen = (await g.exec("pgrep -x xz", { timeoutS: 20 })).stdout.trim() !== "";
      assert.ok(seen, "xz never ran in the guest");
      sh(`virsh -c qemu:///system destroy ${guest.domain}`);
    }));
    const settled = faults.map((f) => f.then(() => undefined, (e: unknown) => e));
    const first = await run.done;
    for (const e of await Promise.all(settled)) if (e) throw e;
    console.log(first.output.split("\n").filter((l) => /^\[|^done/.test(l)).map((l) => `# ${l}`).join("\n"));
    assert.equal(first.code, 1, first.output);
    dir = join(root, "results", STACK, readdirSync(join(root, "results", STACK)).find((d) => d.startsWith("run-"))!);
    const read = readTrialsChecked(dir);
    assert.deepEqual(read.skipped, []);
    const records = read.records.map((r) => r.record);
    const schedule = JSON.parse(readFileSync(join(dir, "schedule.json"), "utf8")) as Schedule;
    assert.equal(records.length, schedule.entries.length, "every trial ran and has its record");
    const [dockerXz] = byTrial(records, "docker", "xz"), [kvmXz] = byTrial(records, "kvm", "xz");
    assert.deepEqual(records.map((r) => [r.environment, r.workload, r.status]), [["docker", "redis", "ok"], ["docker", "redis", "ok"],
      ["kvm", "xz", "failed"], ["docker", "xz", "failed"], ["kvm", "redis", "failed"], ["kvm", "redis", "failed"]]);
    assert.equal(dockerXz!.status, "failed");
    assert.match(dockerXz!.error!.message, /exit code 137|killed|is not running/);
    assert.equal(kvmXz!.status, "failed");
    assert.match(`${kvmXz!.error!.message}\n${kvmXz!.error!.stderrTail}`, /exit code 255|timed out|broken pipe|closed|Timeout/i);
    // Later trials of the dead environments fail fast, with the reason.
    for (const r of records.filter((x) => x.order > dockerXz!.order && x.environment === "docker")) assert.match(r.error!.message, /is not running|No such container/);
    const unreachable = records.filter((x) => x.order > kvmXz!.order && x.environment === "kvm");
    assert.equal(unreachable.length, 2);
    for (const r of unreachable) {
      assert.match(r.error!.message, /no address where SSH answers/);
      assert.ok(r.durationS < 30, `${r.workload}: ${r.durationS} s`);
    }
    assert.ok(await until(() => clientsOfTheStack().length === 0, 10_000), clientsOfTheStack().join("\n"));
  });

  it("the next run brings both up again and runs only the trials that are not ok", async () => {
    assert.ok(dir, "the first run did not finish");
    const before = readTrials(dir);
    const okBefore = new Set(before.filter((r) => r.status === "ok").map((r) => r.order));
    const attempts = readAttempts(dir);
    const second = await startE2e(args).done;
    console.log(second.output.split("\n").filter((l) => /^\[|^done|^resuming/.test(l)).map((l) => `# ${l}`).join("\n"));
    assert.equal(second.code, 0, second.output);
    const after = readTrials(dir);
    const schedule = JSON.parse(readFileSync(join(dir, "schedule.json"), "utf8")) as Schedule;
    for (const e of schedule.entries) assert.ok(after.some((r) => r.order === e.order && r.status === "ok"), `trial ${e.order} not ok`);
    assert.equal(after.length - before.length, schedule.entries.length - okBefore.size, "only the missing trials ran");
    for (const [id, codes] of attempts) if (codes.includes(0)) assert.deepEqual(readAttempts(dir).get(id), codes, `${id} ran again`);
    // redis through the bridge's NAT and into the guest, with the binding and the password of this issue.
    for (const env of ["docker", "kvm"]) assert.equal(byTrial(after, env, "redis").at(-1)!.status, "ok");
    assert.equal(sh(`docker ps -a --filter label=virtperf.stack=${STACK} --format '{{.Names}}'`), "");
    assert.equal(sh(`virsh -c qemu:///system list --all --name | grep -c '^virtperf-${STACK}-' || true`), "0");
    assert.ok(await until(() => clientsOfTheStack().length === 0, 10_000), clientsOfTheStack().join("\n"));
  });
});
