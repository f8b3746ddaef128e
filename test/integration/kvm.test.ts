/**
 * One `kvm` guest for real (QEMU TCG on this machine), brought up and torn down with exactly the
 * scripts the KvmGuest component's command resources run: guest image (built or reused from the
 * cache), disk, domain (validated, defined, started, waited for until SSH answers), facts, smoke trials
 * of xz, nuttcp and fio through `virtperf trial --target '{"kind":"guest",...}'`, then the delete scripts
 * in reverse; afterwards no domain of the stack is left and its disk is gone.
 *
 * Prints the image build (or cache check) time, boot-to-SSH time and teardown time.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { parseExperiment } from "../../stacks/config.ts";
import { planKvm } from "../../stacks/kvm/plan.ts";
import { planGuestImage } from "../../stacks/kvm/guest-image.ts";
import type { CommandSpec } from "../../stacks/experiment.ts";
import { parseRecord } from "../../model/record.ts";
import { kvmProofOf, preflight } from "../../stacks/preflight/preflight.ts";
import { environmentDescription } from "../../stacks/planner.ts";
import { parseFacts } from "../../model/facts.ts";

// VIRTPERF_TEST_STACK: another stack name, so two engineers' runs on one machine never share a domain.
const STACK = process.env["VIRTPERF_TEST_STACK"] ?? "citest";
const host = { cpus: cpus().map((_, i) => i), memoryMiB: Math.floor(totalmem() / 2 ** 20) };
const x = parseExperiment({
  environments: ["kvm"], workloads: ["xz", "nuttcp", "fio"], profile: "smoke", memoryMiB: 1536,
  scratchDir: process.env["VIRTPERF_SCRATCH_DIR"] ?? "/var/lib/virtperf", acceleration: "auto",
}, STACK, host);
const env = x.environments[0]!;
// Acceleration "auto" resolves from this host's real KVM proof, as the planner does: KVM only where it passed.
const plan = planKvm(x, env, 0, { kvm: kvmProofOf(preflight(x)) });
const target = plan.target as { kind: "guest"; domain: string; identityFile: string; knownHostsFile: string };
const disk = plan.commands[0]!.create.match(/rm -rf (\S+\.qcow2)/)![1]!;

async function bash(script: string, what: string, timeoutMs: number): Promise<{ stdout: string; seconds: number }> {
  const t0 = performance.now();
  const r = await execa("bash", ["-s"], { input: script, reject: false, timeout: timeoutMs, all: true });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}${r.timedOut ? ", timed out" : ""}):\n${String(r.all).slice(-3000)}`);
  return { stdout: r.stdout, seconds };
}

async function teardown(commands: readonly CommandSpec[]): Promise<number> {
  const t0 = performance.now();
  for (const c of [...commands].reverse()) if (c.delete) await bash(c.delete, `delete ${c.role}`, 120_000);
  return (performance.now() - t0) / 1000;
}

// The stack's domains: another run on this machine (a second worktree, a dev run) may own others of the
// same prefix, so the checks below ask only about this test's own domain.
async function ourDomains(): Promise<string[]> {
  const r = await execa("virsh", ["-c", "qemu:///system", "list", "--all", "--name"]);
  return r.stdout.split("\n").map((s) => s.trim()).filter((n) => n.startsWith(`virtperf-${STACK}-`));
}

describe("KVM guest for real (libvirt, TCG here)", { timeout: 60 * 60_000 }, () => {
  let up = false;
  before(async () => {
    await bash("bash scripts/services.sh libvirt", "scripts/services.sh libvirt", 120_000);
    await teardown(plan.commands); // a leftover of an interrupted run
  });
  after(async () => {
    const seconds = await teardown(plan.commands);
    if (up) console.log(`# kvm teardown: ${seconds.toFixed(1)} s`);
  });

  it("builds or reuses the guest image", { timeout: 45 * 60_000 }, async () => {
    const r = await bash(planGuestImage(x).create, "guest image", 45 * 60_000);
    console.log(`# guest image: ${r.seconds.toFixed(1)} s (${r.stdout.trim().split("\n").at(-1)})`);
  });

  it("brings the guest up with the plan's commands until it answers SSH", { timeout: 10 * 60_000 }, async () => {
    for (const c of plan.commands) {
      const r = await bash(c.create, `create ${c.role}`, 9 * 60_000);
      if (c.role === "domain") console.log(`# boot to SSH: ${r.seconds.toFixed(1)} s (${r.stdout.trim()})`);
    }
    up = true;
    const state = await execa("virsh", ["-c", "qemu:///system", "domstate", target.domain]);
    assert.equal(state.stdout.trim(), "running");
  });

  it("reports its facts: acceleration labelled, vCPUs and memory seen inside", { timeout: 120_000 }, async () => {
    assert.ok(up, "guest is not up");
    const facts = JSON.parse((await bash(plan.facts, "facts", 100_000)).stdout) as Record<string, unknown>;
    assert.equal(parseFacts("kvm", facts).problem, undefined, "the facts script's output fits the kvm facts schema (model/facts.ts)");
    assert.equal(facts["accelerationReason"], plan.accelerationReason);
    assert.equal(facts["acceleration"], plan.acceleration);
    assert.equal(facts["domainType"], plan.acceleration === "kvm" ? "kvm" : "qemu");
    if (plan.acceleration === "tcg") assert.match(String(facts["accelerationLabel"]), /TCG/);
    assert.equal(facts["guestVcpus"], x.host.cpus);
    const memKiB = facts["guestMemTotalKiB"] as number;
    // MemTotal is what the guest kernel keeps after its own reservations: a bit under the domain's memory.
    assert.ok(memKiB > 0.8 * x.host.memoryMiB * 1024 && memKiB <= x.host.memoryMiB * 1024, `MemTotal ${memKiB} KiB`);
    assert.match(String(facts["domainXml"]), new RegExp(`<name>${target.domain}</name>`));
    assert.match(String(facts["guestKernel"]), /amd64/);
    // The guest answered with its own host key, the one its disk step made and pinned.
    const pinned = readFileSync(target.knownHostsFile, "utf8").trim().split(" ");
    assert.equal(pinned[0], target.domain);
    assert.equal(facts["hostKey"], `${pinned[1]} ${pinned[2]}`);
  });

  it("a guest whose host key is not the pinned one is refused", { timeout: 120_000 }, async () => {
    assert.ok(up, "guest is not up");
    const wrong = join(await mkdtemp(join(tmpdir(), "virtperf-kvm-wrongkey-")), "known_hosts");
    await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${wrong}.key`]);
    writeFileSync(wrong, `${target.domain} ${readFileSync(`${wrong}.key.pub`, "utf8")}`);
    const d = { ...environmentDescription(x, plan), target: { ...plan.target, knownHostsFile: wrong } };
    const r = await execa("bin/virtperf", ["trial", "--environment", JSON.stringify(d), "--workload", "xz", "--profile", "smoke", "--out", dirname(wrong)], { reject: false, timeout: 100_000 });
    assert.notEqual(r.exitCode, 0);
    assert.match(`${r.stdout}${r.stderr}`, /pinned host key/);
  });

  for (const workload of ["xz", "nuttcp", "fio"] as const) {
    it(`smoke trial of ${workload} in the guest`, { timeout: 10 * 60_000 }, async () => {
      assert.ok(up, "guest is not up");
      const out = await mkdtemp(join(tmpdir(), `virtperf-kvm-${workload}-`));
      const args = ["trial", "--environment", JSON.stringify(environmentDescription(x, plan)), "--workload", workload, "--profile", "smoke",
        "--stack", STACK, "--out", out];
      const t0 = performance.now();
      const r = await execa("bin/virtperf", args, { reject: false, timeout: 9 * 60_000 });
      console.log(`# ${workload} trial in the guest: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      assert.equal(r.exitCode, 0, `trial failed:\n${r.stdout}\n${r.stderr}`);
      const record = parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
      assert.equal(record.status, "ok", JSON.stringify(record.error));
      assert.equal(record.kind, "kvm");
      assert.equal(record.acceleration, plan.acceleration);
      const metrics = record.cases.flatMap((c) => c.metrics);
      assert.ok(metrics.length > 0, "no metrics");
      // Counts such as TCP retransmits may truly be 0; throughputs and rates (better: higher) may not.
      for (const m of metrics) assert.ok(Number.isFinite(m.value) && m.value >= 0, `${m.name} = ${m.value}`);
      for (const m of metrics.filter((m) => m.better === "higher")) assert.ok(m.value > 0, `${m.name} = ${m.value}`);
    });
  }

  it("tears down: no domain of the stack, no disk", { timeout: 5 * 60_000 }, async () => {
    const seconds = await teardown(plan.commands);
    console.log(`# kvm teardown: ${seconds.toFixed(1)} s`);
    up = false;
    assert.ok(!(await ourDomains()).includes(target.domain), `${target.domain} is still defined`);
    assert.equal(existsSync(disk), false, `${disk} is still there`);
    assert.equal(existsSync(dirname(target.knownHostsFile)), false, "the guest's keys are still there");
  });
});
