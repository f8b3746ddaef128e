import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { allResources, mocks, promiseOf } from "../../pulumi-mocks.ts";
import { parseExperiment } from "../../../stacks/config.ts";
import { planKvm } from "../../../stacks/kvm/plan.ts";
import { KvmGuest, kvmCommandArgs } from "../../../stacks/kvm/component.ts";
import type { HostAddress } from "../../../stacks/experiment.ts";
import { KVM_NOT_USABLE } from "../../helpers/kvm-proofs.ts";

const x = parseExperiment({ environments: ["kvm", "kvm-tuned"], workloads: ["xz"], scratchDir: "/scratch", memoryMiB: 1024 },
  "citest", { cpus: [0, 1], memoryMiB: 24105 });

const ssh: HostAddress = { kind: "ssh", host: "10.0.0.5", user: "bench", port: 2222, privateKeyFile: "/nonexistent", keyFromSecret: false, hostPublicKey: "ssh-ed25519 AAAA", knownHostsFile: "/nonexistent.known_hosts" };
const cases = [
  { env: "kvm", address: { kind: "local" } as HostAddress, type: "command:local:Command" },
  { env: "kvm-tuned", address: ssh, type: "command:remote:Command" },
] as const;

describe("KvmGuest under mocks", async () => {
  await pulumi.runtime.setMocks(mocks, "virtperf", "citest", false);
  for (const c of cases) {
    it(`${c.env} on a ${c.address.kind} host: children carry the plan's scripts, in order`, async () => {
      const env = x.environments.find((e) => e.name === c.env)!;
      const plan = planKvm(x, env, 1, { kvm: KVM_NOT_USABLE });
      const guest = new KvmGuest(`g-${c.env}`, { plan, address: c.address, privateKey: pulumi.secret("KEY") });
      // bootLog is the last child's stdout: once it resolves, every child is registered.
      assert.equal(await promiseOf(guest.bootLog), "");
      assert.equal(await promiseOf(guest.domain), `virtperf-citest-${c.env}`);
      assert.equal(await promiseOf(guest.acceleration), "tcg");
      assert.deepEqual(JSON.parse(await promiseOf(guest.target)), plan.target);
      const want = kvmCommandArgs(plan, c.address);
      const got = allResources().filter((r) => r.name.startsWith(`g-${c.env}-`));
      assert.deepEqual(got.map((r) => r.name), want.map((w) => `g-${c.env}-${w.role}`));
      for (const [i, r] of got.entries()) {
        assert.equal(r.type, c.type);
        assert.equal(r.inputs["create"], want[i]!.create);
        assert.equal(r.inputs["delete"], want[i]!.delete);
        // Each child's triggers are the previous child's URN (for the first: what it comes after, else "first"), then its spec's.
        const [prev, ...own] = r.inputs["triggers"] as string[];
        assert.deepEqual(own, [...want[i]!.triggers]);
        assert.equal(prev!.split("::").pop(), i === 0 ? "first" : got[i - 1]!.name);
      }
      if (c.address.kind === "ssh") {
        // The private key is a secret, so the mocks see the connection as a secret envelope { value }.
        const raw = got[0]!.inputs["connection"] as Record<string, unknown>;
        const conn = ("value" in raw ? raw["value"] : raw) as Record<string, unknown>;
        assert.equal(conn["hostKey"], "ssh-ed25519 AAAA");
        assert.equal(conn["host"], "10.0.0.5"); assert.equal(conn["port"], 2222); assert.equal(conn["user"], "bench");
        assert.match(String(got[0]!.inputs["create"]), /^bash -c '/);
      } else {
        assert.deepEqual(got[0]!.inputs["interpreter"], ["/bin/bash", "-c"]);
        assert.equal(got[0]!.inputs["create"], plan.commands[0]!.create);
      }
    });
  }
});
