/**
 * KvmDockerGuest under mocks: its children are the plan's commands (disk, [hugepages,] domain, container)
 * in order, local here and remote (bash over the pinned SSH) on an SSH host, where the target's guest is
 * reached via that host.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { allResources, mocks, promiseOf } from "../../pulumi-mocks.ts";
import { parseExperiment } from "../../../stacks/config.ts";
import { planKvmDocker } from "../../../stacks/kvm-docker/plan.ts";
import { KvmDockerGuest, kvmDockerCommandArgs } from "../../../stacks/kvm-docker/component.ts";
import { planDockerImage } from "../../../stacks/docker/spec.ts";
import { allPackages } from "../../../workloads/registry.ts";
import type { HostAddress } from "../../../stacks/experiment.ts";
import { KVM_NOT_USABLE } from "../../helpers/kvm-proofs.ts";

const local: HostAddress = { kind: "local" };
const ssh: HostAddress = { kind: "ssh", host: "10.0.0.5", user: "bench", port: 2222, privateKeyFile: "/nonexistent", keyFromSecret: false, hostPublicKey: "ssh-ed25519 AAAA", knownHostsFile: "/nonexistent.known_hosts" };
const cases = [
  { env: "kvm-docker", address: local, type: "command:local:Command", roles: ["disk", "domain", "container"] },
  { env: "kvm-tuned-docker-host-volume", address: ssh, type: "command:remote:Command", roles: ["disk", "hugepages", "domain", "container"] },
] as const;

describe("KvmDockerGuest under mocks", async () => {
  await pulumi.runtime.setMocks(mocks, "virtperf", "citest", false);
  for (const c of cases) {
    it(`${c.env} on a ${c.address.kind} host: children carry the plan's scripts, in order`, async () => {
      const x = parseExperiment({ environments: [c.env], workloads: ["xz"], scratchDir: "/scratch", memoryMiB: 1024,
        ...(c.address.kind === "ssh" ? { host: { host: "10.0.0.5", user: "bench", port: 2222, privateKeyFile: "/nonexistent", hostPublicKey: "ssh-ed25519 AAAA" } } : {}) },
      "citest", { cpus: [0, 1], memoryMiB: 24105 });
      const plan = planKvmDocker(x, x.environments[0]!, 1, { kvm: KVM_NOT_USABLE }, planDockerImage(x, allPackages()).tag);
      const guest = new KvmDockerGuest(`g-${c.env}`, { plan, address: c.address, privateKey: pulumi.secret("KEY") });
      assert.equal(await promiseOf(guest.bootLog), "");
      assert.equal(await promiseOf(guest.domain), `virtperf-citest-${c.env}`);
      assert.equal(await promiseOf(guest.containerName), `virtperf-citest-${c.env}`);
      assert.equal(await promiseOf(guest.acceleration), "tcg");
      const json = await promiseOf(guest.target);
      assert.deepEqual(JSON.parse(json), plan.target);
      const target = JSON.parse(json) as { via: { kind: string; via?: { host: string } } };
      assert.equal(target.via.kind, "guest");
      if (c.address.kind === "ssh") assert.equal(target.via.via?.host, "10.0.0.5", "the guest is reached via the SSH host");
      const want = kvmDockerCommandArgs(plan, c.address);
      const got = allResources().filter((r) => r.name.startsWith(`g-${c.env}-`));
      assert.deepEqual(got.map((r) => r.name), c.roles.map((role) => `g-${c.env}-${role}`));
      for (const [i, r] of got.entries()) {
        assert.equal(r.type, c.type);
        assert.equal(r.inputs["create"], want[i]!.create);
        assert.equal(r.inputs["delete"], want[i]!.delete);
        const [prev, ...own] = r.inputs["triggers"] as string[];
        assert.deepEqual(own, [...want[i]!.triggers]);
        assert.equal(prev!.split("::").pop(), i === 0 ? "first" : got[i - 1]!.name);
      }
    });
  }
  it("refuses a plan of another kind", () => assert.throws(() => kvmDockerCommandArgs({ kind: "kvm" } as never, local)));
});
