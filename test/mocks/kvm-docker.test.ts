/**
 * The Pulumi program under mocks with containers in guests (kvm-docker, kvm-tuned-docker-host-volume)
 * beside the guest alone and the container alone they are compared with: every command resource runs
 * exactly the planner's commands; the guest image with Docker is its own image, made after the tools
 * image (its first step's trigger names that image's URN); each nested environment is a KvmDockerGuest
 * whose children are disk, [hugepages,] domain and container in order; the records' references are the
 * stack's kvm and docker environments of the same options. Resource names and types are recorded
 * (test/fixtures/pulumi/resources-dev-kvm-docker.txt), so a later refactor that would replace them fails.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allResources, promiseOf, resourcesOfType, runProgram, type RecordedResource } from "../pulumi-mocks.ts";
import { PROBE_ENV } from "../../stacks/host-probe.ts";
import { parseExperiment } from "../../stacks/config.ts";
import { plan } from "../../stacks/planner.ts";
import { imageCommands, type Plan } from "../../stacks/plan.ts";
import { OBSERVATIONS_ENV } from "../../stacks/preflight/preflight.ts";
import type { KvmDockerSpec } from "../../stacks/kvm-docker/plan.ts";
import type { EnvironmentPlan } from "../../stacks/plan.ts";
import { KVM_NOT_USABLE } from "../helpers/kvm-proofs.ts";

const probe = { cpus: [0, 1, 2, 3], memoryMiB: 16384, kvm: KVM_NOT_USABLE, threadsPerCore: 2 };
const { kvm: _proof, ...basic } = probe;
process.env[PROBE_ENV] = JSON.stringify(basic);
process.env[OBSERVATIONS_ENV] = readFileSync(new URL("../fixtures/host/observations-dev-2cpu-no-vmx.txt", import.meta.url), "utf8");

const config = {
  cpuset: "0-1", memoryMiB: 1024, scratchDir: "/tmp/vp-mock",
  environments: ["native", "kvm", "docker", "kvm-tuned", "docker-host-volume", "kvm-docker", "kvm-tuned-docker-host-volume"],
  workloads: ["xz", "nuttcp", "fio"], profile: "smoke", repetitions: 1, seed: 4,
  resultsRoot: mkdtempSync(join(tmpdir(), "virtperf-mock-kvm-docker-")),
};
const COMMAND = "command:local:Command";
const byName = (rs: RecordedResource[], name: string) => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `no resource named ${name}; have: ${rs.map((x) => x.name).join(", ")}`);
  return r;
};

describe("index.ts under mocks with containers in guests", () => {
  let expected: Plan;
  before(async () => {
    const outputs = await runProgram(config);
    await promiseOf(outputs.counts as never);
    expected = plan(parseExperiment(config, "dev", probe), probe);
  });

  it("every command resource runs exactly the planner's commands, and all of them", () => {
    const planned = [...expected.host.commands, ...imageCommands(expected), ...expected.environments.flatMap((e) => e.commands), ...expected.facts]
      .map((c) => c.create).concat(expected.trials.map((t) => t.command)).sort();
    assert.deepEqual(resourcesOfType(COMMAND).map((r) => r.inputs.create as string).sort(), planned);
  });

  it("the guest image with Docker is its own image, made after the tools image; the base guest image is still there for kvm", () => {
    const cmds = resourcesOfType(COMMAND);
    const tools = byName(resourcesOfType("virtperf:stacks:DockerImage"), "virtperf-dev-docker-image");
    const image = byName(cmds, "virtperf-dev-guest-image-docker-guest-image-docker");
    const base = byName(cmds, "virtperf-dev-guest-image-guest-image");
    assert.notEqual(image.inputs.create, base.inputs.create);
    const [first] = image.inputs.triggers as string[];
    assert.match(first!, /virtperf:stacks:DockerImage::virtperf-dev-docker-image$/, "its first trigger names the tools image it is made from");
    assert.ok(tools.seq < image.seq);
    assert.match((base.inputs.triggers as string[])[0]!, /::virtperf-dev-host$/, "the base image comes after the host, as before");
  });

  for (const [env, roles, network] of [
    ["kvm-docker", ["disk", "domain", "container"], "bridge"],
    ["kvm-tuned-docker-host-volume", ["disk", "hugepages", "domain", "container"], "host"],
  ] as const) {
    it(`${env}: a KvmDockerGuest of ${roles.join(", ")} in order, after the guest image with Docker; the container runs in the guest`, () => {
      byName(resourcesOfType("virtperf:stacks:KvmDockerGuest"), `virtperf-dev-${env}`);
      const mine = resourcesOfType(COMMAND).filter((r) => r.name.startsWith(`virtperf-dev-${env}-`)).sort((a, b) => a.seq - b.seq);
      assert.deepEqual(mine.map((r) => r.name), roles.map((r) => `virtperf-dev-${env}-${r}`));
      mine.forEach((r, i) => {
        const [prev] = r.inputs.triggers as string[];
        // The first step names what the guest comes after (its image); the others, the step before.
        if (i === 0) assert.match(prev!, /::virtperf-dev-guest-image-docker$/);
        else assert.match(prev!, new RegExp(`::${mine[i - 1]!.name}$`));
      });
      const image = byName(resourcesOfType(COMMAND), "virtperf-dev-guest-image-docker-guest-image-docker");
      assert.ok(image.seq < mine[0]!.seq);
      const p = expected.environments.find((e) => e.def.name === env) as EnvironmentPlan<KvmDockerSpec>;
      const domain = byName(mine, `virtperf-dev-${env}-domain`).inputs.create as string;
      assert.match(domain, /<domain type='qemu'>/);
      assert.ok(domain.includes(p.spec.image.kernel!), "boots the kernel of the guest image with Docker");
      const container = byName(mine, `virtperf-dev-${env}-container`).inputs.create as string;
      assert.match(container, new RegExp(`--network ${network} `));
      assert.match(container, /--cpuset-cpus 0-1 --memory 671088640b/);
      assert.match(byName(mine, `virtperf-dev-${env}-container`).inputs.delete as string, /docker rm --force/);
    });
  }

  it("no docker.Container for a nested environment (its container is a command over the guest's SSH)", () => {
    const names = resourcesOfType("docker:index/container:Container").map((r) => r.name);
    assert.deepEqual(names.sort(), ["virtperf-dev-docker-container", "virtperf-dev-docker-host-volume-container"]);
  });

  it("trials of a nested environment name its references, the guest alone and the container alone", () => {
    const trial = resourcesOfType(COMMAND).find((r) => /^virtperf-dev-trials-\d+-kvm-docker-/.test(r.name))!;
    const description = /--environment '([^']+)'/.exec(trial.inputs.create as string)![1]!;
    const d = JSON.parse(description) as { references: string[]; kind: string; target: { kind: string; via: { kind: string } } };
    assert.deepEqual(d.references, ["kvm", "docker"]);
    assert.equal(d.kind, "kvm-docker");
    assert.equal(d.target.kind, "docker");
    assert.equal(d.target.via.kind, "guest");
  });

  it("every (type, name) equals the recorded list", () => {
    const now = allResources().map((r) => `${r.type} ${r.name}`).sort();
    const recorded = readFileSync(new URL("../fixtures/pulumi/resources-dev-kvm-docker.txt", import.meta.url), "utf8").trim().split("\n");
    assert.deepEqual(now, recorded);
  });
});
