/**
 * DockerImage, DockerEnvironment and NativeHost under Pulumi mocks: the inputs each child gets equal
 * the plan's specs (dockerContainerArgs/dockerVolumeArgs of the ContainerSpec, the plan's scripts), for
 * every Docker preset, and the order of children is visible in their inputs.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { allResources, mocks, promiseOf, type RecordedResource } from "../../pulumi-mocks.ts";
import { PRESETS } from "../../../stacks/kinds.ts";
import type { EnvironmentDef } from "../../../stacks/experiment.ts";
import type { Experiment } from "../../../stacks/experiment.ts";
import { planDocker, planDockerImage } from "../../../stacks/docker/spec.ts";
import { planNative } from "../../../stacks/native/spec.ts";
import { DockerEnvironment, DockerImage, dockerContainerArgs, dockerProviderArgs, dockerVolumeArgs } from "../../../stacks/docker/component.ts";
import { NativeHost } from "../../../stacks/native/component.ts";
import { sshOptions } from "../../../lib/ssh.ts";
import { experiment } from "../../helpers/experiments.ts";

const x: Experiment = experiment({
  stack: "mk", host: { address: { kind: "local" }, cpuset: "0-1", cpus: 2, memoryMiB: 2048, scratchDir: "/s", ioDir: "/io" },
});
const DOCKER_PRESETS = ["docker", "docker-host", "docker-volume", "docker-host-volume"] as const;
const env = (name: keyof typeof PRESETS): EnvironmentDef => ({ name, options: PRESETS[name] });

/** Waits until the mock monitor has seen every registration the outputs depend on. */
async function settle(outputs: pulumi.Output<unknown>[]): Promise<void> {
  await Promise.all(outputs.map((o) => promiseOf(o)));
  await new Promise((r) => setTimeout(r, 50));
}

function byName(name: string): RecordedResource {
  const r = allResources().find((res) => res.name === name);
  assert.ok(r, `no resource named ${name}; have ${allResources().map((res) => res.name).join(", ")}`);
  return r;
}

describe("DockerImage and DockerEnvironment under mocks", () => {
  const imagePlan = planDockerImage(x, ["fio", "xz-utils"], "FROM ${BASE_IMAGE}\n");
  const plans = DOCKER_PRESETS.map((p, i) => planDocker(x, env(p), i + 1, imagePlan.tag));
  const envs: DockerEnvironment[] = [];
  let image: DockerImage;

  before(async () => {
    await pulumi.runtime.setMocks(mocks, "virtperf", "mk", false);
    image = new DockerImage("mk-image", { plan: imagePlan, address: x.host.address });
    for (const plan of plans) envs.push(new DockerEnvironment(`mk-${plan.def.name}`, { plan, address: x.host.address, image: image.tag }));
    await settle([image.tag, ...envs.flatMap((e) => [e.containerName, e.volumeName, e.target])]);
  });

  it("image: the plan's build commands, in order, the second after the first", () => {
    const [base, build] = imagePlan.commands;
    const b = byName("mk-image-docker-base");
    const i = byName("mk-image-docker-image");
    assert.equal(b.type, "command:local:Command");
    assert.equal(b.inputs.create, base!.create);
    assert.equal(b.inputs.delete, base!.delete);
    assert.equal(i.inputs.create, build!.create);
    assert.match((i.inputs.triggers as string[])[0]!, /::mk-image-docker-base$/);
    assert.deepEqual((i.inputs.triggers as string[])[1], imagePlan.tag);
  });

  for (const [k, preset] of DOCKER_PRESETS.entries()) {
    it(`${preset}: container inputs equal the spec (network, ports, mounts, cpuset, memory, labels)`, async () => {
      const spec = plans[k]!.spec;
      const c = byName(`mk-${preset}-container`);
      assert.equal(c.type, "docker:index/container:Container");
      const expected = dockerContainerArgs(spec);
      assert.deepEqual(c.inputs, { ...expected });
      assert.equal(c.inputs.networkMode, preset.includes("host") ? "host" : "bridge");
      assert.equal((c.inputs.ports as unknown[]).length, preset.includes("host") ? 0 : 8);
      assert.equal(c.inputs.cpuSet, "0-1");
      assert.equal(c.inputs.memory, 2048);
      assert.deepEqual(c.inputs.labels, [{ label: "virtperf.stack", value: "mk" }, { label: "virtperf.environment", value: preset }]);
      const withVolume = preset.endsWith("volume");
      const volumes = allResources().filter((r) => r.name === `mk-${preset}-volume` && r.type === "docker:index/volume:Volume");
      assert.equal(volumes.length, withVolume ? 1 : 0);
      if (withVolume) {
        assert.deepEqual(volumes[0]!.inputs, dockerVolumeArgs(spec.volume!));
        assert.equal(byName(`mk-${preset}-volume-dir`).inputs.create, plans[k]!.commands[0]!.create);
        assert.equal(await promiseOf(envs[k]!.volumeName), spec.volume!.name);
      }
      assert.deepEqual(JSON.parse(await promiseOf(envs[k]!.target)), { kind: "docker", container: spec.name });
    });
  }

  it("creates the components and exactly their `${name}-<role>` children", () => {
    const ours = allResources().filter((r) => r.name.startsWith("mk-") && !r.name.startsWith("mk-native")).map((r) => `${r.type} ${r.name}`).sort();
    const env = (n: string, volume: boolean) => [
      `virtperf:stacks:DockerEnvironment mk-${n}`, `docker:index/container:Container mk-${n}-container`,
      ...(volume ? [`docker:index/volume:Volume mk-${n}-volume`, `command:local:Command mk-${n}-volume-dir`] : []),
    ];
    assert.deepEqual(ours, [
      "virtperf:stacks:DockerImage mk-image", "command:local:Command mk-image-docker-base", "command:local:Command mk-image-docker-image",
      ...env("docker", false), ...env("docker-host", false), ...env("docker-volume", true), ...env("docker-host-volume", true),
    ].sort());
  });
});

describe("NativeHost under mocks", () => {
  it("runs the plan's preparation then the facts script, chained, locally", async () => {
    await pulumi.runtime.setMocks(mocks, "virtperf", "mk", false);
    const plan = planNative(x, env("native"), ["fio"]);
    const host = new NativeHost("mk-native", { plan, address: x.host.address });
    await settle([host.facts, host.ready, host.target]);
    const roles = ["host-packages", "host-dirs", "native-cgroup", "facts"];
    roles.forEach((role, i) => {
      const r = byName(`mk-native-${role}`);
      assert.equal(r.type, "command:local:Command");
      assert.equal(r.inputs.create, i < 3 ? plan.commands[i]!.create : plan.facts);
      assert.deepEqual(r.inputs.interpreter, ["/bin/bash", "-c"]);
      if (i > 0) assert.ok((r.inputs.triggers as string[]).some((t) => t.endsWith(`::mk-native-${roles[i - 1]}`)), `${role} waits for ${roles[i - 1]}`);
    });
    assert.deepEqual(JSON.parse(await promiseOf(host.target)), plan.target);
  });
});

describe("dockerProviderArgs", () => {
  it("local socket, or ssh:// with the stack's key and the host's pinned key for a remote host", () => {
    assert.deepEqual(dockerProviderArgs({ kind: "local" }), { host: "unix:///var/run/docker.sock" });
    const remote = dockerProviderArgs({ kind: "ssh", host: "srv", user: "b", port: 22, privateKeyFile: "/k", keyFromSecret: false, hostPublicKey: "ssh-ed25519 A", knownHostsFile: "/kh" });
    assert.equal(remote.host, "ssh://b@srv:22");
    assert.deepEqual(remote.sshOpts, sshOptions({ identityFile: "/k", knownHostsFile: "/kh" }));
    const opts = remote.sshOpts as string[];
    for (const o of ["UserKnownHostsFile=/kh", "GlobalKnownHostsFile=none", "StrictHostKeyChecking=yes", "IdentitiesOnly=yes", "BatchMode=yes"]) assert.ok(opts.includes(o), o);
    assert.deepEqual(opts.slice(opts.indexOf("-i"), opts.indexOf("-i") + 2), ["-i", "/k"]);
  });
});

describe("DockerEnvironment on an SSH host", () => {
  it("creates its own provider for the daemon over ssh://", async () => {
    await pulumi.runtime.setMocks(mocks, "virtperf", "mk", false);
    const address = { kind: "ssh", host: "srv", user: "b", port: 2200, privateKeyFile: "/k", keyFromSecret: false, hostPublicKey: "ssh-ed25519 A", knownHostsFile: "/kh" } as const;
    const xs: Experiment = { ...x, stack: "rm", host: { ...x.host, address } };
    const plan = planDocker(xs, env("docker"), 0, "virtperf/tools:abc");
    const e = new DockerEnvironment("rm-docker", { plan, address, privateKey: "KEY" });
    await settle([e.containerName, e.target]);
    const provider = byName("rm-docker-provider");
    assert.equal(provider.type, "pulumi:providers:docker");
    assert.equal(provider.inputs.host, "ssh://b@srv:2200");
    // Provider config reaches the engine as JSON text.
    assert.deepEqual(JSON.parse(provider.inputs.sshOpts as string), sshOptions({ identityFile: "/k", knownHostsFile: "/kh" }));
    assert.deepEqual(JSON.parse(await promiseOf(e.target)), { kind: "docker", container: "virtperf-rm-docker",
      via: { kind: "ssh", host: "srv", user: "b", port: 2200, identityFile: "/k", knownHostsFile: "/kh" } });
  });
});
