/**
 * The two gVisor presets for real: register the runsc runtimes (scripts/services.sh), run the pre-flight
 * with its real probe, plan gvisor and gvisor-host-volume from it, bring them up with the kind's own
 * steps (what e2e runs; the Pulumi program maps the same spec), check their facts say what runs them
 * (runtime really runsc-*, the platform and network mode on the sandbox's command line, gVisor's kernel),
 * run a smoke trial of xz (CPU), nuttcp (network) and fio (I/O) in each through `bin/virtperf trial`,
 * tear down, and check nothing of ours is left (containers, volumes, their directories, runsc processes).
 *
 * nuttcp cannot run under runsc 2022-12: Debian's nuttcp 6.1.2 dies on its first connection where
 * /proc/sys/net/ipv4/tcp_adv_win_scale is missing, as in gVisor. The trial must fail with that reason
 * (its setup refuses), not with a refused connection; the day it passes, this test says so.
 * Stack "gvtest" (VIRTPERF_TEST_STACK): only objects labelled with it are touched.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parseExperiment } from "../../stacks/config.ts";
import { probeHost } from "../../stacks/host-probe.ts";
import { assertPreflight, hostProbeOf, preflight } from "../../stacks/preflight/preflight.ts";
import { environmentDescription, plan } from "../../stacks/planner.ts";
import { kindModule } from "../../stacks/kinds.ts";
import type { EnvironmentPlan, Plan, Step } from "../../stacks/plan.ts";
import type { ContainerSpec } from "../../stacks/docker/spec.ts";
import type { Experiment } from "../../stacks/experiment.ts";
import { parseFacts, type GvisorFacts } from "../../model/facts.ts";
import { parseRecord, type TrialRecord } from "../../model/record.ts";

const STACK = process.env["VIRTPERF_TEST_STACK"] ?? "gvtest";
const PRESETS = ["gvisor", "gvisor-host-volume"] as const;
// mysql: InnoDB falls back to simulated AIO where io_uring fails (it does under runsc 2022-12); redis: a server bound to the container.
const SMOKE_WORKLOADS = ["xz", "nuttcp", "fio", "mysql", "redis"] as const;

const services = await execa("bash", ["scripts/services.sh", "docker"], { reject: false, all: true });
const runsc = await execa("runsc", ["--version"], { reject: false });
const skip = services.exitCode !== 0 ? `dockerd cannot start here, gVisor tests skipped:\n${services.all}`
  : runsc.exitCode !== 0 ? "runsc is not installed (apt-get install runsc, or bash scripts/setup): gVisor tests skipped" : false;
if (skip) console.error(skip);

async function sh(script: string, what: string): Promise<string> {
  const r = await execa("bash", ["-c", script], { reject: false, all: true });
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}):\n${r.all}`);
  return String(r.stdout);
}

async function lines(script: string): Promise<string[]> {
  return (await execa("bash", ["-c", script], { reject: false })).stdout.split("\n").filter(Boolean);
}

const ours = (what: "ps -a" | "volume ls") => lines(`docker ${what} --filter label=virtperf.stack=${STACK} --format '{{${what === "ps -a" ? ".Names" : ".Name"}}}'`);

describe(`gVisor environments for real (stack ${STACK})`, { skip, timeout: 1_800_000 }, () => {
  let scratch: string;
  let x: Experiment;
  let p: Plan;
  let envs: EnvironmentPlan<ContainerSpec>[] = [];
  let steps: Step[] = [];
  let ids: string[] = [];
  const records = new Map<string, TrialRecord>();

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "virtperf-gvtest-"));
    const basic = probeHost();
    x = parseExperiment({
      cpuset: basic.cpus.length > 1 ? `0-${basic.cpus.length - 1}` : "0", memoryMiB: 1024, scratchDir: scratch,
      environments: [...PRESETS], workloads: [...SMOKE_WORKLOADS], profile: "smoke", repetitions: 1,
    }, STACK, basic);
    const checked = preflight(x);
    assertPreflight(x, checked);
    p = plan(x, hostProbeOf(basic, checked));
    envs = p.environments as EnvironmentPlan<ContainerSpec>[];
    steps = envs.flatMap((e) => kindModule(e.kind).steps(e));
    // Leftovers of an interrupted earlier run would collide with our names.
    for (const s of [...steps].reverse()) if (s.delete) await sh(s.delete, `${s.label} pre-clean`);
  });

  after(async () => {
    for (const s of [...steps].reverse()) if (s.delete) await execa("bash", ["-c", s.delete], { reject: false });
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("plans both from the probe: runsc-ptrace-host here, labelled, with why", () => {
    for (const e of envs) {
      assert.equal(e.kind, "gvisor");
      assert.match(e.spec.runtime ?? "", /^runsc-(systrap|kvm|ptrace)-(gvisor|host)$/);
      assert.match(e.isolation!, /^runsc (systrap|kvm|ptrace), (gVisor netstack|host network passthrough)$/);
      assert.match(e.isolationReason!, /^probed: /);
      console.error(`${e.def.name}: ${e.spec.runtime}: ${e.isolationReason}`);
    }
  });

  it("builds or reuses the tools image with the plan's commands", { timeout: 1_200_000 }, async () => {
    for (const i of p.images) for (const c of i.commands) await sh(c.create, `image ${c.role}`);
  });

  it("brings both up with the kind's steps; each really runs under runsc as planned", async () => {
    const t0 = performance.now();
    for (const s of steps) await sh(s.create, s.label);
    // Up means answering: the first exec in the sandbox.
    for (const e of envs) await sh(`docker exec ${e.spec.name} true`, `${e.def.name} answers`);
    console.error(`gVisor bring-up: ${envs.length} environments in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.deepEqual((await ours("ps -a")).sort(), envs.map((e) => e.spec.name).sort());
    ids = await Promise.all(envs.map(async (e) => (await sh(`docker inspect --format '{{.Id}}' ${e.spec.name}`, "id")).trim()));
    for (const e of envs) {
      const json = JSON.parse(await sh(e.facts, `${e.def.name} facts`));
      assert.equal(parseFacts("gvisor", json).problem, undefined, "the facts script's output fits the gvisor facts schema (model/facts.ts)");
      const f = json as GvisorFacts;
      const g = f.gvisor!;
      assert.equal(f.kind, "gvisor");
      assert.equal(f.inspect?.runtime, e.spec.runtime, "dockerd ran it with the planned runtime");
      assert.equal(g.seen?.runtime, e.spec.runtime);
      assert.equal(g.seen?.platform, g.planned?.platform, `the sandbox's flags (${g.seen?.sandboxFlags}) show the planned platform`);
      assert.equal(g.seen?.netstack, g.planned?.netstack);
      assert.match(g.seen?.runscVersion ?? "", /^runsc version/);
      assert.deepEqual(g.seen?.registered?.runtimeArgs, g.planned?.args);
      // The application sees gVisor's kernel, not the host's.
      assert.notEqual(g.seen?.kernel, f.daemon?.kernel);
      assert.match(g.seen?.dmesg ?? "", /gVisor/);
      assert.equal(typeof g.directIo?.oDirectOnHost, "boolean", `direct-I/O check: ${JSON.stringify(g.directIo)}`);
      assert.equal(typeof g.ioUring?.works, "boolean", `io_uring check: ${JSON.stringify(g.ioUring)}`);
      assert.equal(f.inspect?.networkMode, e.spec.networkMode);
      assert.equal(f.inspect?.memoryBytes, e.spec.memoryBytes);
      assert.equal(f.inspect?.cpusetCpus, e.spec.cpusetCpus);
      console.error(`${e.def.name}: O_DIRECT on the host: ${g.directIo?.oDirectOnHost} (host fd flags ${g.directIo?.hostFdFlags})`);
    }
  });

  for (const preset of PRESETS) {
    for (const workload of SMOKE_WORKLOADS) {
      it(`smoke trial: ${workload} in ${preset}`, { timeout: 300_000 }, async () => {
        const e = envs.find((q) => q.def.name === preset);
        assert.ok(e, `${preset} was not planned`);
        const out = join(scratch, "results", preset);
        const r = await execa("bin/virtperf", [
          "trial", "--environment", JSON.stringify(environmentDescription(x, e)), "--workload", workload,
          "--profile", "smoke", "--stack", STACK, "--out", out,
        ], { reject: false });
        const record = parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
        records.set(`${preset}/${workload}`, record);
        assert.equal(record.kind, "gvisor");
        assert.equal(record.isolation, e.isolation);
        assert.equal(record.isolationReason, e.isolationReason);
        if (workload === "nuttcp") {
          // Known: see the header. The setup refuses, naming why.
          assert.equal(record.status, "failed", "nuttcp now runs under gVisor: drop this expectation (and the nuttcp setup check's note)");
          assert.match(record.error?.message ?? "", /tcp_adv_win_scale/);
          return;
        }
        assert.equal(r.exitCode, 0, `trial failed:\n${r.stdout}\n${r.stderr}`);
        assert.equal(record.status, "ok", JSON.stringify(record.error));
        const metrics = record.cases.flatMap((c) => c.metrics);
        assert.ok(metrics.length > 0 && metrics.every((m) => Number.isFinite(m.value)), JSON.stringify(metrics));
        if (workload === "xz") {
          // The corpus is text, not zeros: the ratio of a real corpus (about 3), not thousands.
          const ratio = metrics.find((m) => m.name === "ratio")!.value;
          assert.ok(ratio > 1.5 && ratio < 20, `xz ratio ${ratio}`);
        }
        console.error(`${preset} ${workload}: ${record.cases.map((c) => `${c.case} ${c.metrics[0]!.name}=${c.metrics[0]!.value.toFixed(1)} ${c.metrics[0]!.unit}`).join("; ")}${record.contamination?.flagged ? ` [busy host: ${record.contamination.reasons.join("; ")}]` : ""}`);
      });
    }
  }

  it("tears down and leaves nothing of ours: containers, volumes, their directories, runsc processes", async () => {
    for (const s of [...steps].reverse()) if (s.delete) await sh(s.delete, `${s.label} delete`);
    assert.deepEqual(await ours("ps -a"), []);
    assert.deepEqual(await ours("volume ls"), []);
    for (const e of envs) if (e.spec.volume) assert.equal(existsSync(e.spec.volume.hostDir), false, `${e.spec.volume.hostDir} left`);
    // pgrep itself, not through bash: a shell's own command line would name the id.
    for (const id of ids) assert.equal((await execa("pgrep", ["-f", "--", id], { reject: false })).stdout, "", `processes of container ${id.slice(0, 12)} left`);
  });
});
