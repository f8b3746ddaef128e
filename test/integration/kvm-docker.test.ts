/**
 * Containers inside KVM guests for real (QEMU TCG on this machine, labelled so): both presets,
 * `kvm-docker` and `kvm-tuned-docker-host-volume`, brought up with exactly the steps e2e runs and the
 * KvmDockerGuest's command resources carry (the plan's images: the tools image, then the guest image
 * with Docker, built or reused; then disk, [hugepages,] domain, container), their facts checked against
 * the plan (acceleration labelled, the container inside the guest with all its vCPUs and the guest's
 * memory less the guest system's share), smoke trials of xz (CPU), nuttcp (network: server in the nested
 * container, client here) and fio (I/O) through `virtperf trial --environment <description>`, then the
 * delete scripts in reverse: no domain of the stack, no disk and no keys left.
 *
 * Prints the image build (or cache check) time, boot-to-SSH, container-ready and teardown times, and
 * each trial's headline value.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { parseExperiment } from "../../stacks/config.ts";
import { plan as planStack, environmentDescription } from "../../stacks/planner.ts";
import { kindModule } from "../../stacks/kinds.ts";
import { kvmProofOf, preflight } from "../../stacks/preflight/preflight.ts";
import type { EnvironmentPlan, Step } from "../../stacks/plan.ts";
import type { KvmDockerSpec } from "../../stacks/kvm-docker/plan.ts";
import { parseFacts } from "../../model/facts.ts";
import { parseRecord } from "../../model/record.ts";

// VIRTPERF_TEST_STACK: another stack name, so two engineers' runs on one machine never share a domain.
const STACK = process.env["VIRTPERF_TEST_STACK"] ?? "citest";
const PRESETS = ["kvm-docker", "kvm-tuned-docker-host-volume"] as const;
const WORKLOADS = ["xz", "nuttcp", "fio"] as const;
const host = { cpus: cpus().map((_, i) => i), memoryMiB: Math.floor(totalmem() / 2 ** 20) };
const x = parseExperiment({
  environments: [...PRESETS], workloads: [...WORKLOADS], profile: "smoke", memoryMiB: 1536,
  scratchDir: process.env["VIRTPERF_SCRATCH_DIR"] ?? "/var/lib/virtperf", acceleration: "auto",
}, STACK, host);

async function bash(script: string, what: string, timeoutMs: number): Promise<{ stdout: string; seconds: number }> {
  const t0 = performance.now();
  const r = await execa("bash", ["-s"], { input: script, reject: false, timeout: timeoutMs, all: true });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}${r.timedOut ? ", timed out" : ""}):\n${String(r.all).slice(-3000)}`);
  return { stdout: r.stdout, seconds };
}

async function ourDomains(): Promise<string[]> {
  const r = await execa("virsh", ["-c", "qemu:///system", "list", "--all", "--name"]);
  return r.stdout.split("\n").map((s) => s.trim()).filter((n) => n.startsWith(`virtperf-${STACK}-`));
}

describe(`containers in KVM guests for real (stack ${STACK}, TCG here)`, { timeout: 60 * 60_000 }, () => {
  // Acceleration "auto" resolves from this host's real KVM proof, as the planner does: KVM only where it passed.
  const p = planStack(x, { ...host, kvm: kvmProofOf(preflight(x)) });
  const envs = p.environments as EnvironmentPlan<KvmDockerSpec>[];
  const stepsOf = (e: EnvironmentPlan) => kindModule("kvm-docker").steps(e);
  const up = new Set<string>();
  const teardown = async (steps: readonly Step[]) => {
    const t0 = performance.now();
    for (const s of [...steps].reverse()) if (s.delete) await bash(s.delete, `delete ${s.label}`, 180_000);
    return (performance.now() - t0) / 1000;
  };

  before(async () => {
    await bash("bash scripts/services.sh", "scripts/services.sh", 180_000);
    for (const e of envs) await teardown(stepsOf(e)); // leftovers of an interrupted run
  });
  after(async () => {
    for (const e of envs) if (up.has(e.def.name)) console.log(`# ${e.def.name} teardown: ${(await teardown(stepsOf(e))).toFixed(1)} s`);
  });

  it("builds or reuses the tools image, then the guest image with Docker (the plan's image steps, in order)", { timeout: 45 * 60_000 }, async () => {
    assert.deepEqual(p.images.map((i) => i.id), ["docker-tools", "guest-image-docker"]);
    for (const c of p.images.flatMap((i) => i.commands)) {
      const r = await bash(c.create, `image ${c.role}`, 40 * 60_000);
      console.log(`# image ${c.role}: ${r.seconds.toFixed(1)} s (${r.stdout.trim().split("\n").at(-1)})`);
    }
  });

  for (const name of PRESETS) {
    describe(name, () => {
      const e = envs.find((q) => q.def.name === name)!;
      const c = e.spec.container;

      it("comes up with the kind's steps: the guest answers SSH, then its dockerd runs the container", { timeout: 15 * 60_000 }, async () => {
        for (const s of stepsOf(e)) {
          const r = await bash(s.create, `create ${s.label}`, 14 * 60_000);
          if (/\/(domain|container)$/.test(s.label)) console.log(`# ${s.label}: ${r.seconds.toFixed(1)} s (${r.stdout.trim().split("\n").at(-1)})`);
          up.add(name);
        }
        const state = await execa("virsh", ["-c", "qemu:///system", "domstate", e.spec.guest.name]);
        assert.equal(state.stdout.trim(), "running");
      });

      it("reports its facts: acceleration labelled, the container inside the guest with all its vCPUs and its memory share", { timeout: 180_000 }, async () => {
        assert.ok(up.has(name), "not up");
        const json = JSON.parse((await bash(e.facts, "facts", 170_000)).stdout) as unknown;
        const { facts, problem } = parseFacts("kvm-docker", json);
        assert.equal(problem, undefined, "the facts script's output fits the kvm-docker facts schema (model/facts.ts)");
        const f = facts!;
        assert.equal(f.acceleration, e.acceleration);
        assert.equal(f.accelerationReason, e.accelerationReason);
        if (e.acceleration === "tcg") assert.match(String(f.accelerationLabel), /TCG/);
        assert.equal(f.guest?.domainType, e.acceleration === "kvm" ? "kvm" : "qemu");
        assert.equal(f.guest?.guestVcpus, x.host.cpus);
        const inside = f.container!.inside!, inspect = f.container!.inspect!;
        assert.equal(inspect.cpusetCpus, c.cpusetCpus);
        assert.equal(inside.cpusAllowed, c.cpusetCpus);
        assert.equal(Number(inside.nproc), x.host.cpus);
        assert.equal(inspect.memoryBytes, c.memoryBytes);
        assert.equal(String(inside.memoryLimit), String(c.memoryBytes));
        assert.equal(inspect.networkMode, c.networkMode);
        assert.equal(inspect.image, c.image, "the nested container runs the host's tools image");
        const hostId = (await execa("docker", ["image", "inspect", "--format", "{{.Id}}", c.image])).stdout.trim();
        assert.equal(inspect.imageId, hostId, "the same image id as the host's tools image");
        assert.equal(f.container!.portPath, c.networkMode === "host" ? "host network" : "iptables NAT");
        if (c.volume) assert.equal(f.container!.volume?.options?.["device"], c.volume.hostDir);
        assert.equal(f.memory?.containerMiB, x.host.memoryMiB - e.spec.guestSystemMiB);
        console.log(`# ${name}: guest MemAvailable ${Math.round(Number(f.memory?.guestMemAvailableKiB) / 1024)} MiB with dockerd + containerd at ${Math.round(Number(f.memory?.guestDaemonsRssKiB) / 1024)} MiB RSS; container limit ${f.memory?.containerMiB} MiB`);
      });

      for (const workload of WORKLOADS) {
        it(`smoke trial of ${workload} in the nested container`, { timeout: 10 * 60_000 }, async () => {
          assert.ok(up.has(name), "not up");
          const out = await mkdtemp(join(tmpdir(), `virtperf-kvm-docker-${workload}-`));
          const t0 = performance.now();
          const r = await execa("bin/virtperf", ["trial", "--environment", JSON.stringify(environmentDescription(x, e)), "--workload", workload,
            "--profile", "smoke", "--stack", STACK, "--out", out], { reject: false, timeout: 9 * 60_000 });
          assert.equal(r.exitCode, 0, `trial failed:\n${r.stdout}\n${r.stderr}`);
          const record = parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
          assert.equal(record.status, "ok", JSON.stringify(record.error));
          assert.equal(record.kind, "kvm-docker");
          assert.equal(record.acceleration, e.acceleration);
          const metrics = record.cases.flatMap((k) => k.metrics);
          assert.ok(metrics.length > 0, "no metrics");
          for (const m of metrics) assert.ok(Number.isFinite(m.value) && (m.better === "higher" ? m.value > 0 : m.value >= 0), `${m.name} = ${m.value}`);
          const head = metrics.find((m) => m.better === "higher")!;
          console.log(`# ${name} ${workload}: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${record.cases[0]!.case} ${head.name} ${head.value} ${head.unit}`);
        });
      }

      it("tears down: no domain, no disk, no keys", { timeout: 5 * 60_000 }, async () => {
        console.log(`# ${name} teardown: ${(await teardown(stepsOf(e))).toFixed(1)} s`);
        up.delete(name);
        assert.ok(!(await ourDomains()).includes(e.spec.guest.name));
        assert.equal(existsSync(e.spec.guest.disk.path), false, `${e.spec.guest.disk.path} is still there`);
        assert.equal(existsSync(dirname(e.spec.guestTarget.knownHostsFile!)), false, "the guest's keys are still there");
      });
    });
  }

  // Only this test's domains: another run on this machine may own other domains of the same stack.
  it("leaves none of its domains", async () =>
    assert.deepEqual((await ourDomains()).filter((d) => envs.some((e) => e.spec.guest.name === d)), []));
});
