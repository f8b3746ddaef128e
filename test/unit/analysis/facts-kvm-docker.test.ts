/**
 * What differs, for a container inside a guest: its facts (stacks/kvm-docker/, captured from a real
 * run on this machine: test/fixtures/facts/kvm-docker-tcg.json) read with the kvm-docker schema, each
 * aspect naming both layers, container first; beside the `kvm` guest alone and the `docker` container
 * alone, the nested one differs in CPU set, memory, network and storage, and shares the guest's kernel.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { compareAspects, environmentAspects } from "../../../analysis/facts.ts";
import type { RunFacts } from "../../../analysis/load.ts";
import { parseFacts } from "../../../model/facts.ts";

const here = dirname(fileURLToPath(import.meta.url));
const read = (p: string) => JSON.parse(readFileSync(join(here, "../../fixtures", p), "utf8")) as Record<string, any>;
const nested = read("facts/kvm-docker-tcg.json");
const real = (name: string) => read(`records/real-smoke-2026-11-26/facts/${name}.json`);
const facts: RunFacts = {
  dir: "", host: real("host"), unreadable: [],
  environments: new Map<string, unknown>([["kvm-docker", nested], ["kvm", real("kvm")], ["docker", real("docker")]]),
};
const aspectsOf = (env: string) => environmentAspects(env, facts, []);

describe("aspects of a container inside a guest", () => {
  it("the real facts fit the kvm-docker schema", () => assert.equal(parseFacts("kvm-docker", nested).problem, undefined));

  it("each aspect names both layers, container first, from the facts' own values", () => {
    const a = aspectsOf("kvm-docker");
    const c = nested.container, g = nested.guest;
    assert.match(a.cpuset!, new RegExp(`^container: ${c.inside.cpusAllowed} of the guest's vCPUs \\(docker --cpuset-cpus\\); guest: `));
    assert.match(a.cpuset!, /guest: .*vCPUs/);
    assert.match(a.memory!, new RegExp(`^container: ${c.inspect.memoryBytes / 2 ** 20} MiB \\(docker --memory, no swap\\); guest: ${nested.memory.guestMiB} MiB`));
    assert.match(a.memory!, new RegExp(`${nested.memory.guestSystemMiB} MiB of the guest left to its own system$`));
    assert.match(a.network!, /^container: Docker bridge with NAT, 4 ports \(tcp\+udp\) published on 0\.0\.0\.0, via kernel NAT \(iptables\), no userland proxy; guest: libvirt NAT network 'default', virtio-net/);
    assert.match(a.storage!, /^container: container filesystem \(overlay2\)[^;]* on the guest's disk; guest: qcow2/);
    assert.match(a.acceleration!, /tcg|TCG/);
    assert.equal(a.kernel, g.guestKernel);
    assert.ok(a.cpuModel!.startsWith(g.guestCpuModel));
  });

  it("beside the guest alone and the container alone, the layers are what differs", () => {
    const { differing, same } = compareAspects(new Map(["kvm-docker", "kvm", "docker"].map((e) => [e, aspectsOf(e)] as const)));
    const keys = differing.map((d) => d.key);
    for (const k of ["cpuset", "memory", "network", "storage"] as const) assert.ok(keys.includes(k), k);
    assert.ok(!same.some((s) => s.key === "network"));
  });

  it("a host-network container says it shares the guest's network stack", () => {
    const hostNet = structuredClone(nested);
    hostNet.container.inspect.networkMode = "host";
    const f: RunFacts = { ...facts, environments: new Map([["kd", hostNet]]) };
    assert.match(environmentAspects("kd", f, []).network!, /^container: the guest's network stack \(--net=host\); guest: /);
  });

  it("facts without a container or a guest still read, and never throw", () => {
    for (const broken of [{ kind: "kvm-docker" }, { kind: "kvm-docker", guest: null }, { kind: "kvm-docker", container: { inspect: 5 } }, { kind: "kvm-docker", memory: "x" }]) {
      const f: RunFacts = { ...facts, environments: new Map([["kd", broken]]) };
      assert.doesNotThrow(() => environmentAspects("kd", f, []));
    }
  });
});
