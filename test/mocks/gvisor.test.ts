/**
 * The Pulumi program under mocks with the gVisor presets (not in the all-presets list of index.test.ts,
 * whose recorded resources must not change): each gvisor environment is a DockerEnvironment whose
 * docker.Container carries the runtime the probe proved (this machine's captured probe: runsc-ptrace-host),
 * from the one tools image the docker kind builds too; its trials get the description with the isolation
 * label and the reference; a host whose dockerd lacks the runtimes is refused before any resource.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allResources, promiseOf, resourcesOfType, runProgram, type RecordedResource } from "../pulumi-mocks.ts";
import { PROBE_ENV } from "../../stacks/host-probe.ts";
import { OBSERVATIONS_ENV } from "../../stacks/preflight/preflight.ts";
import { parseExperiment } from "../../stacks/config.ts";
import { plan } from "../../stacks/planner.ts";
import { imageCommands, type EnvironmentPlan, type Plan } from "../../stacks/plan.ts";
import { parseObservations } from "../../stacks/preflight/checks.ts";
import { parseGvisorProbe } from "../../stacks/gvisor/runtime.ts";
import { dockerContainerArgs } from "../../stacks/docker/component.ts";
import type { ContainerSpec } from "../../stacks/docker/spec.ts";
import { PreflightError } from "../../lib/errors.ts";
import { KVM_NOT_USABLE } from "../helpers/kvm-proofs.ts";

const probe = { cpus: [0, 1, 2, 3], memoryMiB: 16384, kvm: KVM_NOT_USABLE, threadsPerCore: 2 };
const { kvm: _proof, ...basic } = probe;
process.env[PROBE_ENV] = JSON.stringify(basic);
const fixture = (name: string) => readFileSync(new URL(`../fixtures/host/${name}`, import.meta.url), "utf8");
// This machine's real observations, its gVisor probe among them (runsc 2022-12).
const observations = `${fixture("observations-dev-2cpu-no-vmx.txt")}\n${fixture("observations-gvisor-runsc-20221219.txt")}`;
process.env[OBSERVATIONS_ENV] = observations;

const config = {
  cpuset: "0-1", memoryMiB: 1024, scratchDir: "/tmp/vp-mock",
  environments: ["native", "docker", "docker-host-volume", "gvisor", "gvisor-host-volume"],
  workloads: ["xz", "fio"], profile: "smoke", repetitions: 2, seed: 9,
  resultsRoot: mkdtempSync(join(tmpdir(), "virtperf-mock-results-")),
};

const COMMAND = "command:local:Command";
const CONTAINER = "docker:index/container:Container";
const byName = (rs: RecordedResource[], name: string) => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `no resource named ${name}; have: ${rs.map((x) => x.name).join(", ")}`);
  return r;
};

describe("index.ts under mocks: the gVisor presets", () => {
  let expected: Plan;
  before(async () => {
    const outputs = await runProgram(config);
    await promiseOf(outputs.counts as never);
    expected = plan(parseExperiment(config, "dev", probe), { ...probe, gvisor: parseGvisorProbe(parseObservations(observations))! });
  });

  it("every command resource runs exactly the planner's commands, and all of them", () => {
    const planned = [...expected.host.commands, ...imageCommands(expected), ...expected.environments.flatMap((e) => e.commands), ...expected.facts]
      .map((c) => c.create).concat(expected.trials.map((t) => t.command)).sort();
    assert.deepEqual(resourcesOfType(COMMAND).map((r) => r.inputs.create as string).sort(), planned);
  });

  const presets: [string, string, boolean][] = [["gvisor", "bridge", false], ["gvisor-host-volume", "host", true]];
  for (const [env, network, volume] of presets) {
    it(`${env}: a Docker container run by runsc-ptrace-host (the probe's choice), ${network} network, ${volume ? "a volume" : "overlay"}`, () => {
      const c = byName(resourcesOfType(CONTAINER), `virtperf-dev-${env}-container`).inputs;
      const spec = (expected.environments.find((e) => e.def.name === env) as EnvironmentPlan<ContainerSpec>).spec;
      const want = dockerContainerArgs(spec);
      assert.equal(c.runtime, "runsc-ptrace-host");
      assert.equal(c.runtime, want.runtime);
      assert.equal(c.networkMode, network);
      assert.equal(c.cpuSet, "0-1");
      assert.equal(c.memory, 1024);
      assert.deepEqual(c.ports ?? [], want.ports);
      assert.equal(((c.mounts as unknown[] | undefined) ?? []).length, volume ? 1 : 0);
      assert.equal(c.image, spec.image);
      assert.equal(byName(allResources(), `virtperf-dev-${env}`).type, "virtperf:stacks:DockerEnvironment");
      if (volume) byName(resourcesOfType("docker:index/volume:Volume"), `virtperf-dev-${env}-volume`);
    });
  }

  it("runc's containers keep Docker's default runtime", () => {
    for (const env of ["docker", "docker-host-volume"]) assert.equal(byName(resourcesOfType(CONTAINER), `virtperf-dev-${env}-container`).inputs.runtime, undefined);
  });

  it("one tools image for both kinds", () => {
    assert.deepEqual(resourcesOfType("virtperf:stacks:DockerImage").map((r) => r.name), ["virtperf-dev-docker-image"]);
  });

  it("gVisor's trials carry the isolation label, its reason and the reference in their description", () => {
    const trials = resourcesOfType(COMMAND).filter((r) => /^virtperf-dev-trials-\d+-gvisor-/.test(r.name));
    assert.equal(trials.length, 8);
    for (const t of trials) {
      const create = t.inputs.create as string;
      const reference = /-gvisor-host-volume-/.test(t.name) ? "docker-host-volume" : "docker";
      assert.match(create, /"kind":"gvisor"/);
      assert.match(create, /"isolation":"runsc ptrace, host network passthrough"/);
      assert.match(create, /"isolationReason":"probed: systrap: unknown platform/);
      assert.ok(create.includes(`"references":["${reference}"]`), t.name);
    }
  });
});

describe("index.ts refuses a host whose dockerd lacks the gVisor runtimes, before any resource", () => {
  it("names the gvisor environments and the set-up's fix", async () => {
    process.env[OBSERVATIONS_ENV] = observations.split("\n").filter((l) => !l.startsWith("gvisor.runtime.runsc")).join("\n");
    try {
      await assert.rejects(runProgram(config), (e: unknown) => e instanceof PreflightError && /runsc runtimes registered in dockerd \(gvisor\)/.test(e.shortMessage)
        && e.suggestions.some((s) => /scripts\/services.sh docker/.test(s)));
      assert.deepEqual(allResources(), []);
    } finally {
      process.env[OBSERVATIONS_ENV] = observations;
    }
  });
});
