/**
 * Rootless Podman for real: from the plan's own steps, create (or reuse) the unprivileged user with its
 * subordinate ids, load the Docker tools image into its storage, set the limits the host allows and start
 * the container as the user; check the facts (what Podman gave, what a process inside sees, how the CPU
 * set and memory were applied) against the plan; run a smoke trial of xz (CPU), nuttcp (network) and fio
 * (I/O) through `bin/virtperf trial`; tear down and check nothing of ours is left for the user (container,
 * cgroups, state file). Stack "pdtest" (VIRTPERF_TEST_STACK to change it): only containers labelled with
 * it are touched. Skipped, loudly, when dockerd cannot start here (it builds the image) or podman is missing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { PRESETS, kindModule } from "../../stacks/kinds.ts";
import type { Experiment } from "../../stacks/experiment.ts";
import type { EnvironmentPlan, Plan, Step } from "../../stacks/plan.ts";
import { environmentDescription, plan } from "../../stacks/planner.ts";
import { notProbed } from "../../stacks/kvm/acceleration.ts";
import { podmanAs, type PodmanSpec } from "../../stacks/podman/spec.ts";
import { WORKLOADS } from "../../workloads/registry.ts";
import { parseFacts } from "../../model/facts.ts";
import { parseRecord } from "../../model/record.ts";

const STACK = process.env["VIRTPERF_TEST_STACK"] ?? "pdtest";
// redis: a server bound to the container's tap address, reached through rootlessport (it was refused on loopback).
const SMOKE_WORKLOADS = ["xz", "nuttcp", "fio", "redis"] as const;
const USER = PRESETS["podman-rootless"].user;

const services = await execa("bash", ["scripts/services.sh", "docker"], { reject: false, all: true });
const podmanHere = (await execa("podman", ["--version"], { reject: false })).exitCode === 0;
const skip = services.exitCode !== 0 ? `dockerd cannot start here (it builds the tools image), Podman tests skipped:\n${services.all}`
  : !podmanHere ? "podman is not installed (bash scripts/setup installs it), Podman tests skipped" : false;
if (skip) console.error(skip);

async function sh(script: string, what: string): Promise<string> {
  const r = await execa("bash", ["-c", script], { reject: false, all: true });
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}):\n${r.all}`);
  return String(r.all);
}

/** Our containers for the user (label virtperf.stack=<STACK>). */
async function ours(): Promise<string[]> {
  const words = [...podmanAs(USER), "ps", "-a", "--filter", `label=virtperf.stack=${STACK}`, "--format", "{{.Names}}"];
  const r = await execa(words[0]!, words.slice(1), { reject: false, all: true });
  assert.equal(r.exitCode, 0, `podman ps as ${USER}: ${r.all}`);
  return String(r.stdout).split("\n").filter(Boolean);
}

describe(`rootless Podman for real (stack ${STACK})`, { skip, timeout: 1_800_000 }, () => {
  let scratch: string;
  let x: Experiment;
  let p: Plan;
  let env: EnvironmentPlan<PodmanSpec>;
  let envSteps: Step[] = [];
  const down = async () => { for (const s of [...envSteps].reverse()) if (s.delete) await sh(s.delete, `${s.label} delete`); };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "virtperf-pdtest-"));
    const n = cpus().length;
    x = {
      stack: STACK,
      host: { address: { kind: "local" }, cpuset: n > 1 ? `0-${n - 1}` : "0", cpus: n, memoryMiB: 1024, scratchDir: scratch, ioDir: join(scratch, "io") },
      environments: [{ name: "podman-rootless", options: PRESETS["podman-rootless"] }], client: { kind: "host" },
      acceleration: "auto", workloads: [...SMOKE_WORKLOADS], profile: "smoke", repetitions: 1, seed: 1,
      debianSuite: "bookworm", dockerBaseImage: "debian:bookworm", resultsRoot: join(scratch, "results"),
    };
    p = plan(x, { cpus: Array.from({ length: n }, (_, i) => i), memoryMiB: 24000, kvm: notProbed("no guests") });
    env = p.environments[0] as EnvironmentPlan<PodmanSpec>;
    envSteps = kindModule("podman").steps(env);
  });

  after(async () => {
    await down();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("brings the environment up from the plan's steps: user, image, limits, container", { timeout: 1_200_000 }, async () => {
    assert.deepEqual(p.images.map((i) => i.id), ["docker-tools", `podman-tools-${USER}`], "the user's copy comes after Docker's image");
    // Leftovers of an interrupted earlier run would collide with our names (the e2e pre-clean does the same).
    if ((await execa("id", ["-u", USER], { reject: false })).exitCode === 0) await down();
    const t0 = performance.now();
    for (const c of p.images.flatMap((i) => i.commands)) {
      const s = performance.now();
      const out = await sh(c.create, `image ${c.role}`);
      console.error(`${c.role}: ${((performance.now() - s) / 1000).toFixed(1)} s ${out.trim().split("\n").slice(-3).join(" | ")}`);
    }
    const t1 = performance.now();
    for (const s of envSteps) console.error(`${s.label}: ${(await sh(s.create, s.label)).trim()}`);
    const t2 = performance.now();
    console.error(`bring-up: images ${((t1 - t0) / 1000).toFixed(1)} s, environment ${((t2 - t1) / 1000).toFixed(1)} s`);
    assert.deepEqual(await ours(), [env.spec.container.name]);
    // The user's step is idempotent: a second run creates nothing.
    const again = await sh(p.images[1]!.commands[0]!.create, "podman-user again");
    assert.doesNotMatch(again, /created user|gets \d+/);
    assert.match(again, /podman as virtperf-podman: 4\.\d+\.\d+ overlay/);
  });

  it("gets what the plan says: rootless, slirp4netns, runc, overlay, the ports, and the CPU set and memory by the host's means", async () => {
    const raw = JSON.parse(await sh(env.facts, "facts"));
    const { facts, problem } = parseFacts("podman", raw);
    assert.equal(problem, undefined, "the facts script's output fits the podman facts schema (model/facts.ts)");
    const f = facts!;
    const c = env.spec.container;
    assert.equal(f.engine?.rootless, true);
    assert.equal(f.engine?.storageDriver, "overlay");
    assert.equal(f.inspect?.networkMode, "slirp4netns");
    assert.equal(f.inspect?.ociRuntime, "runc");
    assert.equal(f.inspect?.init, true);
    assert.equal(f.inspect?.image, c.image);
    assert.deepEqual(Object.keys(f.inspect?.portBindings ?? {}).sort(), c.ports.map((q) => `${q.port}/${q.protocol}`).sort());
    assert.equal(f.portPath, "rootlessport (userland relay into the container network namespace)");
    assert.match(f.inside?.dataFs ?? "", /^overlay overlay$/, "data in the container's overlay (the kernel's, in the user namespace)");
    assert.match(f.inside?.uidMap ?? "", /^ ?0 \d+ 1;/, "root inside is the user outside");
    assert.doesNotMatch(f.inside?.uidMap ?? "", /^ ?0 0 /);
    assert.equal(f.inside?.cpusAllowed, x.host.cpuset);
    assert.equal(Number(f.inside?.nproc), x.host.cpus);
    const mode = f.limits?.mode;
    assert.ok(mode === "podman" || mode === "cgroup1" || mode === "taskset", `limits mode ${mode}`);
    if (f.engine?.cgroupVersion === "v1") assert.equal(mode, "cgroup1", "this host is cgroup v1 as root: the host's groups give the limits");
    if (mode === "taskset") assert.equal(f.inside?.memoryLimit === String(c.memoryBytes), false);
    else assert.equal(f.inside?.memoryLimit, String(c.memoryBytes), "the trial's processes get the stack's memory limit");
    if (mode === "podman") assert.equal(f.inspect?.memoryBytes, c.memoryBytes);
    if (mode === "cgroup1") assert.match(f.inspect?.cgroupPath ?? "", new RegExp(`/${env.spec.limits.group}$`), "the container itself is in the group");
  });

  for (const workload of SMOKE_WORKLOADS) {
    it(`smoke trial: ${workload} in podman-rootless`, { timeout: 300_000 }, async () => {
      const out = join(scratch, "results");
      const r = await execa("bin/virtperf", [
        "trial", "--environment", JSON.stringify(environmentDescription(x, env)), "--workload", workload,
        "--profile", "smoke", "--stack", STACK, "--out", out,
      ], { reject: false });
      assert.equal(r.exitCode, 0, `trial failed:\n${r.stdout}\n${r.stderr}`);
      const record = parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
      assert.equal(record.status, "ok", JSON.stringify(record.error));
      assert.equal(record.environment, "podman-rootless");
      assert.equal(record.kind, "podman");
      const declared = new Set(WORKLOADS[workload].metrics.map((m) => m.name));
      const metrics = record.cases.flatMap((k) => k.metrics);
      assert.ok(metrics.length > 0, "no metrics");
      for (const m of metrics) {
        assert.ok(declared.has(m.name), `undeclared metric ${m.name}`);
        assert.ok(Number.isFinite(m.value) && (m.better === "higher" ? m.value > 0 : m.value >= 0), `${m.name} = ${m.value}`);
      }
      // Trials run in the stack's CPU set, and rootless Podman's relay is the environment's, not a busy neighbour.
      assert.equal(record.context?.env.cpus, x.host.cpuset);
      assert.ok(!(record.contamination?.busy ?? []).some((b) => b.comm === "rootlessport"), JSON.stringify(record.contamination));
      assert.ok((await readFile(join(out, record.raw!), "utf8")).length > 0, "raw output is empty");
      console.error(`${workload}: ${metrics.slice(0, 3).map((m) => `${m.name}=${m.value} ${m.unit}`).join(", ")}`);
    });
  }

  it("tears down and leaves nothing of ours for the user", async () => {
    await down();
    assert.deepEqual(await ours(), []);
    assert.equal(existsSync(env.spec.limits.stateFile), false, "state file left");
    const groups = await execa("bash", ["-c", `find /sys/fs/cgroup -maxdepth 6 -type d -name ${env.spec.limits.group} 2>/dev/null`], { reject: false });
    assert.equal(String(groups.stdout).trim(), "", "cgroups left");
  });
});
