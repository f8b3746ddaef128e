/**
 * The four Docker configurations for real: start dockerd, build (or reuse) the tools image with the
 * plan's own commands, bring up docker, docker-host, docker-volume and docker-host-volume with
 * renderDockerRun, check each got what its spec says (docker inspect via the facts script), run a smoke
 * trial of xz (CPU), nuttcp (network) and fio (I/O) in each through `bin/virtperf trial`, tear down, and
 * check nothing of ours is left. Stack "citest": only objects labelled virtperf.stack=citest are touched.
 * Skipped, loudly, only when dockerd cannot be started here.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { PRESETS } from "../../stacks/kinds.ts";
import type { EnvironmentDef } from "../../stacks/experiment.ts";
import type { Experiment } from "../../stacks/experiment.ts";
import {
  planDocker, planDockerImage, renderDockerRemove, renderDockerRun, renderVolumeCreate, type DockerEnvironmentPlan,
} from "../../stacks/docker/spec.ts";
import { WORKLOADS, allPackages } from "../../workloads/registry.ts";
import { environmentDescription } from "../../stacks/planner.ts";
import { parseFacts } from "../../model/facts.ts";
import { parseRecord } from "../../model/record.ts";

// VIRTPERF_TEST_STACK: another stack name, so two engineers' runs on one machine never share a container.
const STACK = process.env["VIRTPERF_TEST_STACK"] ?? "citest";
const PRESET_NAMES = ["docker", "docker-host", "docker-volume", "docker-host-volume"] as const;
const SMOKE_WORKLOADS = ["xz", "nuttcp", "fio"] as const;

const services = await execa("bash", ["scripts/services.sh", "docker"], { reject: false, all: true });
const skip = services.exitCode === 0 ? false : `dockerd cannot start here, Docker tests skipped:\n${services.all}`;
if (skip) console.error(skip);

async function sh(script: string, what: string): Promise<string> {
  const r = await execa("bash", ["-c", script], { reject: false, all: true });
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}):\n${r.all}`);
  return String(r.stdout);
}

async function argv(words: readonly string[], opts: { reject?: boolean } = {}): Promise<string> {
  const r = await execa(words[0]!, words.slice(1), { reject: false, all: true });
  if (opts.reject !== false) assert.equal(r.exitCode, 0, `${words.join(" ")} failed:\n${r.all}`);
  return String(r.stdout);
}

async function ours(kind: "container" | "volume"): Promise<string[]> {
  const list = kind === "container"
    ? ["docker", "ps", "-a", "--filter", `label=virtperf.stack=${STACK}`, "--format", "{{.Names}}"]
    : ["docker", "volume", "ls", "--filter", `label=virtperf.stack=${STACK}`, "--format", "{{.Name}}"];
  return (await argv(list)).split("\n").filter(Boolean);
}

/** Removes containers, volumes and volume directories of the plans; safe to run twice. */
async function teardown(plans: readonly DockerEnvironmentPlan[]): Promise<void> {
  for (const p of [...plans].reverse()) {
    for (const words of renderDockerRemove(p.spec)) await argv(words, { reject: false });
    for (const c of [...p.commands].reverse()) if (c.delete) await sh(c.delete, `${p.def.name} ${c.role} delete`);
  }
}

describe(`Docker environments for real (stack ${STACK})`, { skip, timeout: 1_800_000 }, () => {
  let scratch: string;
  let x: Experiment;
  let plans: DockerEnvironmentPlan[] = [];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "virtperf-citest-"));
    const n = cpus().length;
    x = {
      stack: STACK,
      host: { address: { kind: "local" }, cpuset: n > 1 ? `0-${n - 1}` : "0", cpus: n, memoryMiB: 1024, scratchDir: scratch, ioDir: join(scratch, "io") },
      environments: PRESET_NAMES.map((name) => ({ name, options: PRESETS[name] })), client: { kind: "host" },
      acceleration: "auto", workloads: [...SMOKE_WORKLOADS], profile: "smoke", repetitions: 1, seed: 1,
      debianSuite: "bookworm", dockerBaseImage: "debian:bookworm", resultsRoot: join(scratch, "results"),
    };
    // Leftovers of an interrupted earlier run would collide with our names.
    for (const c of await ours("container")) await argv(["docker", "rm", "--force", c]);
    for (const v of await ours("volume")) await argv(["docker", "volume", "rm", "--force", v]);
  });

  after(async () => {
    await teardown(plans);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("builds or reuses the tools image with the plan's commands", { timeout: 1_200_000 }, async () => {
    const image = planDockerImage(x, allPackages());
    const t0 = performance.now();
    for (const c of image.commands) await sh(c.create, `image ${c.role}`);
    console.error(`tools image ${image.tag} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const labels = await argv(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image.tag]);
    assert.equal(JSON.parse(labels)["virtperf.image"], "tools");
    plans = x.environments.map((def: EnvironmentDef, i) => planDocker(x, def, i, image.tag));
  });

  it("brings up the four configurations and each gets what its spec says", async () => {
    assert.equal(plans.length, 4, "image step did not run");
    for (const p of plans) {
      for (const c of p.commands) await sh(c.create, `${p.def.name} ${c.role}`);
      if (p.spec.volume) await argv(renderVolumeCreate(p.spec.volume));
      await argv(renderDockerRun(p.spec));
    }
    assert.deepEqual((await ours("container")).sort(), plans.map((p) => p.spec.name).sort());
    for (const p of plans) {
      const facts = JSON.parse(await sh(p.facts, `${p.def.name} facts`));
      assert.equal(parseFacts("docker", facts).problem, undefined, "the facts script's output fits the docker facts schema (model/facts.ts)");
      const spec = p.spec;
      assert.equal(facts.inspect.networkMode, spec.networkMode);
      assert.equal(facts.inspect.cpusetCpus, spec.cpusetCpus);
      assert.equal(facts.inspect.memoryBytes, spec.memoryBytes);
      assert.equal(facts.inside.memoryLimit, String(spec.memoryBytes));
      assert.equal(Number(facts.inside.nproc), x.host.cpus);
      const mounts = facts.inspect.mounts.map((m: { Type: string; Name?: string; Destination: string }) => `${m.Type}:${m.Name}:${m.Destination}`);
      assert.deepEqual(mounts, spec.volume ? [`volume:${spec.volume.name}:/data`] : []);
      if (spec.volume) assert.equal(facts.volume.options.device, spec.volume.hostDir);
      // services.sh starts dockerd without its userland relay: published ports go through kernel NAT.
      assert.equal(facts.portPath, spec.networkMode === "host" ? "host network" : "iptables NAT");
      const published = Object.keys(facts.inspect.portBindings ?? {}).sort();
      assert.deepEqual(published, spec.ports.map((q) => `${q.port}/${q.protocol}`).sort());
    }
  });

  for (const preset of PRESET_NAMES) {
    for (const workload of SMOKE_WORKLOADS) {
      it(`smoke trial: ${workload} in ${preset}`, { timeout: 300_000 }, async () => {
        const p = plans.find((q) => q.def.name === preset);
        assert.ok(p, `${preset} was not brought up`);
        const out = join(scratch, "results", preset);
        const r = await execa("bin/virtperf", [
          "trial", "--environment", JSON.stringify(environmentDescription(x, p)), "--workload", workload,
          "--profile", "smoke", "--stack", STACK, "--out", out,
        ], { reject: false });
        assert.equal(r.exitCode, 0, `trial failed:\n${r.stdout}\n${r.stderr}`);
        const record = parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
        assert.equal(record.status, "ok", JSON.stringify(record.error));
        assert.equal(record.environment, preset);
        assert.equal(record.kind, "docker");
        const declared = new Set(WORKLOADS[workload].metrics.map((m) => m.name));
        const metrics = record.cases.flatMap((c) => c.metrics);
        assert.ok(metrics.length > 0, "no metrics");
        for (const m of metrics) {
          assert.ok(declared.has(m.name), `undeclared metric ${m.name}`);
          // Throughputs must be positive; counts and latencies (better=lower) may be 0 (no retransmits).
          assert.ok(Number.isFinite(m.value) && (m.better === "higher" ? m.value > 0 : m.value >= 0), `${m.name} = ${m.value}`);
        }
        assert.ok((await readFile(join(out, record.raw!), "utf8")).length > 0, "raw output is empty");
      });
    }
  }

  it("tears down and leaves nothing of ours", async () => {
    await teardown(plans);
    assert.deepEqual(await ours("container"), []);
    assert.deepEqual(await ours("volume"), []);
    for (const p of plans) if (p.spec.volume) assert.equal(existsSync(p.spec.volume.hostDir), false, `${p.spec.volume.hostDir} left`);
  });
});
