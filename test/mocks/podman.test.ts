/**
 * The podman-rootless preset under mocks: the program creates exactly the plan's commands for it (the
 * user and its copy of the tools image after Docker's, then the limits and the container), no Docker
 * container; its trials reach it as the user, through the wrap, and name the stack's docker environment
 * as a reference. The pre-flight reads this machine's observations (the podman lines captured after a
 * real bring-up, beside the dev stack's). The all-presets program (index.test.ts) does not list it, so
 * its recorded resources stay as they were.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promiseOf, resourcesOfType, runProgram, type RecordedResource } from "../pulumi-mocks.ts";
import { PROBE_ENV } from "../../stacks/host-probe.ts";
import { parseExperiment } from "../../stacks/config.ts";
import { environmentDescription, plan } from "../../stacks/planner.ts";
import { shq } from "../../lib/shell.ts";
import type { Plan } from "../../stacks/plan.ts";
import { OBSERVATIONS_ENV } from "../../stacks/preflight/preflight.ts";
import { PreflightError } from "../../lib/errors.ts";
import { KVM_NOT_USABLE } from "../helpers/kvm-proofs.ts";
import { engineCommand } from "../../workloads/runner/targets.ts";

const probe = { cpus: [0, 1, 2, 3], memoryMiB: 16384, kvm: KVM_NOT_USABLE, threadsPerCore: 2 };
const { kvm: _proof, ...basic } = probe;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/host/${name}`, import.meta.url), "utf8");
const observations = `${fixture("observations-dev-2cpu-no-vmx.txt")}\n${fixture("observations-podman-rootless.txt")}`;

const config = {
  cpuset: "0-1", memoryMiB: 1024, scratchDir: "/tmp/vp-mock",
  environments: ["native", "docker", "podman-rootless"], workloads: ["xz", "nuttcp", "fio"], profile: "smoke", repetitions: 1, seed: 9,
  resultsRoot: mkdtempSync(join(tmpdir(), "virtperf-mock-results-")),
};
const COMMAND = "command:local:Command";
const named = (prefix: string) => resourcesOfType(COMMAND).filter((r) => r.name.startsWith(prefix)).sort((a, b) => a.seq - b.seq);
const one = (rs: RecordedResource[], name: string) => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `no resource named ${name}; have: ${rs.map((x) => x.name).join(", ")}`);
  return r;
};

describe("podman-rootless under mocks", () => {
  let expected: Plan;
  before(async () => {
    process.env[PROBE_ENV] = JSON.stringify(basic);
    process.env[OBSERVATIONS_ENV] = observations;
    const outputs = await runProgram(config);
    await promiseOf(outputs.counts as never); // every resource is registered once the trials' outputs resolve
    expected = plan(parseExperiment(config, "dev", probe), probe);
  });

  it("the user and its copy of the tools image: a command chain after Docker's image, the plan's scripts", () => {
    const chain = named("virtperf-dev-podman-image-virtperf-podman-");
    assert.deepEqual(chain.map((r) => r.name), ["virtperf-dev-podman-image-virtperf-podman-podman-user", "virtperf-dev-podman-image-virtperf-podman-podman-image"]);
    const image = expected.images.find((i) => i.id === "podman-tools-virtperf-podman")!;
    assert.deepEqual(image.after, ["docker-tools"]);
    assert.deepEqual(chain.map((r) => r.inputs.create), image.commands.map((c) => c.create));
    assert.match(chain[0]!.inputs.create as string, /useradd --system/);
    assert.match(chain[1]!.inputs.create as string, /docker save virtperf\/tools:[0-9a-f]{12} \| env -i .* runuser -u virtperf-podman -- podman load/);
    assert.equal(chain[0]!.inputs.delete, undefined, "the user stays: its storage is the image cache");
    // Registration follows dependencies (a resource registers once what it depends on has): Docker's build first.
    const build = one(resourcesOfType(COMMAND), "virtperf-dev-docker-image-docker-image");
    assert.ok(build.seq < chain[0]!.seq, "the user's copy is made after Docker built the image");
  });

  it("the environment: limits then the container, as the plan's scripts; no Docker container for it", () => {
    const env = expected.environments.find((e) => e.def.name === "podman-rootless")!;
    const steps = named("virtperf-dev-podman-rootless-");
    assert.deepEqual(steps.map((r) => r.name), ["virtperf-dev-podman-rootless-podman-limits", "virtperf-dev-podman-rootless-podman-container"]);
    assert.deepEqual(steps.map((r) => r.inputs.create), env.commands.map((c) => c.create));
    assert.deepEqual(steps.map((r) => r.inputs.delete), env.commands.map((c) => c.delete));
    const run = steps[1]!.inputs.create as string;
    for (const w of ["--network slirp4netns", "--runtime runc", "--init", "--publish 127.0.0.1:21020:21020/tcp", "--publish 127.0.0.1:21023:21023/udp", "--shm-size 536870912b"]) assert.ok(run.includes(w), w);
    assert.match(run, /limits=\(--cpuset-cpus 0-1 --memory 1073741824b --memory-swap 1073741824b --pids-limit -1\)/);
    assert.ok(run.includes(`${engineCommand({ engine: "podman", user: "virtperf-podman" }).join(" ")} run --detach --name virtperf-dev-podman-rootless`));
    assert.match(steps[0]!.inputs.create as string, /mode=podman/);
    assert.ok(one(resourcesOfType(COMMAND), "virtperf-dev-podman-image-virtperf-podman-podman-image").seq < steps[0]!.seq, "after the user's image");
    assert.deepEqual(resourcesOfType("docker:index/container:Container").map((r) => r.name), ["virtperf-dev-docker-container"]);
  });

  it("its trials reach it as the user through the wrap, and name docker as a reference; its facts are collected", () => {
    const planned = expected.trials.filter((t) => t.environment === "podman-rootless");
    assert.equal(planned.length, 3);
    const program = new Set(resourcesOfType(COMMAND).map((r) => r.inputs.create));
    for (const t of planned) assert.ok(program.has(t.command), `trial ${t.id} is the plan's command`);
    const d = environmentDescription(expected.experiment, expected.environments.find((e) => e.def.name === "podman-rootless")!);
    for (const t of planned) assert.ok(t.command.includes(shq(JSON.stringify(d))), "the trial gets the planned description");
    assert.equal(d.kind, "podman");
    assert.deepEqual(d.references, ["docker"]);
    assert.ok(d.target.kind === "docker" && d.target.engine === "podman" && d.target.user === "virtperf-podman");
    assert.deepEqual(d.target.wrap?.slice(-1), ["virtperf-podman"]);
    assert.deepEqual(d.ports, [21020, 21021, 21022, 21023]);
    assert.ok(one(resourcesOfType(COMMAND), "virtperf-dev-facts-facts-podman-rootless"));
  });

  it("a missing /dev/net/tun or a user at uid 0 stops the program before any resource, naming the check", async () => {
    for (const [line, title] of [["podman.tun=absent", "/dev/net/tun for slirp4netns"], ["podman.user.virtperf-podman=uid 0 home /root", "rootless Podman user virtperf-podman"]] as const) {
      process.env[OBSERVATIONS_ENV] = `${observations}\n${line}\n`;
      try {
        await assert.rejects(runProgram(config), (e: unknown) => e instanceof PreflightError && e.shortMessage.includes(`${title} (podman-rootless)`));
      } finally {
        process.env[OBSERVATIONS_ENV] = observations;
      }
    }
  });
});
