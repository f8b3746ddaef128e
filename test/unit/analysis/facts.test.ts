import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { environmentAspects, compareAspects, type Aspects } from "../../../analysis/facts.ts";
import { readRunFacts, type LocatedRecord, type RunFacts } from "../../../analysis/load.ts";
import { parseTrialsText } from "../../../model/record.ts";
import { PRESETS } from "../../../stacks/kinds.ts";
import type { KvmOptions } from "../../../stacks/kvm/options.ts";
import { macFor, renderDomainXml, type DomainType } from "../../../stacks/kvm/domain.ts";
import { readdirSync, readFileSync as readFixture } from "node:fs";
import { parseFacts } from "../../../model/facts.ts";
import type { KindName } from "../../../model/kinds.ts";

const REAL = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/records/real-smoke-2026-11-26");
const records = parseTrialsText(readFileSync(join(REAL, "trials.jsonl"), "utf8"), "trials.jsonl").records;
const facts = readRunFacts(REAL)!;
const json = (name: string) => JSON.parse(readFileSync(join(REAL, "facts", `${name}.json`), "utf8")) as Record<string, any>;
const aspectsOf = (env: string, f: RunFacts | undefined = facts, recs: readonly LocatedRecord[] = records) => environmentAspects(env, f, recs);

describe("environment aspects from the real run's facts (as the stacks' facts scripts write them)", () => {
  const host = json("host"), docker = json("docker"), volume = json("docker-host-volume"), kvm = json("kvm");
  // Expected values are read from the facts files themselves, then checked against the report's words.
  const cases: { env: string; key: keyof Aspects; starts?: string; includes: readonly string[]; excludes?: readonly string[] }[] = [
    { env: "native", key: "cpuset", starts: host.limits.probe.cpusAllowed, includes: ["cgroup v1 cpuset"] },
    { env: "docker", key: "cpuset", starts: docker.inside.cpusAllowed, includes: ["--cpuset-cpus"] },
    { env: "kvm", key: "cpuset", starts: kvm.domainXml.match(/<vcpu[^>]*cpuset='([^']+)'/)[1], includes: [`${kvm.guestVcpus} vCPUs`, "not pinned"] },
    { env: "native", key: "memory", starts: `${host.limits.probe.memoryLimit / 2 ** 20} MiB`, includes: ["cgroup limit", "no swap"] },
    { env: "docker", key: "memory", starts: `${docker.inspect.memoryBytes / 2 ** 20} MiB`, includes: ["--memory"] },
    { env: "kvm", key: "memory", starts: "2048 MiB", includes: [`guest sees ${Math.round(kvm.guestMemTotalKiB / 1024)} MiB`] },
    { env: "native", key: "network", includes: ["host network stack"] },
    { env: "docker", key: "network", starts: "Docker bridge with NAT", includes: ["4 ports (tcp+udp) published on 127.0.0.1"] },
    { env: "docker-host-volume", key: "network", includes: ["--net=host"] },
    { env: "kvm", key: "network", starts: "libvirt NAT network 'default', virtio-net", includes: ["1 queue"] },
    { env: "docker", key: "storage", starts: `container filesystem (${docker.daemon.storageDriver})`, includes: [], excludes: ["overlay overlay"] },
    { env: "docker-host-volume", key: "storage", starts: "Docker volume", includes: ["bind of a host directory", volume.inside.dataFs] },
    { env: "kvm", key: "storage", starts: "qcow2 (overlay on a raw base image)", includes: ["virtio-blk", "cache default"] },
    { env: "kvm", key: "acceleration", includes: ["QEMU TCG", "not KVM"] },
    { env: "docker", key: "acceleration", starts: "none", includes: [] },
    { env: "native", key: "kernel", starts: host.kernel, includes: [] },
    { env: "docker", key: "kernel", starts: docker.daemon.kernel, includes: [] },
    { env: "kvm", key: "kernel", starts: kvm.guestKernel, includes: [] },
    { env: "docker", key: "cpuModel", starts: host.cpuModel, includes: [] },
    { env: "kvm", key: "cpuModel", starts: kvm.guestCpuModel, includes: ["libvirt custom model Nehalem"] },
    { env: "native", key: "tools", includes: ["xz (XZ Utils) 5.4.1", "fio-3.33", "sysbench 1.0.20"], excludes: ["xz xz"] },
  ];
  for (const c of cases) {
    it(`${c.env} ${c.key}`, () => {
      const v = aspectsOf(c.env)[c.key];
      assert.ok(v, `${c.env} has a ${c.key}`);
      if (c.starts !== undefined) assert.ok(v.startsWith(c.starts), `${v} starts with ${c.starts}`);
      for (const s of c.includes) assert.ok(v.includes(s), `${v} includes ${s}`);
      for (const s of c.excludes ?? []) assert.ok(!v.includes(s), `${v} excludes ${s}`);
    });
  }
  it("the CPU set differs (by mechanism) and the tool versions are the same in all", () => {
    const byEnv = new Map(["native", "docker", "docker-host-volume", "kvm"].map((e) => [e, aspectsOf(e)] as const));
    const { differing, same } = compareAspects(byEnv);
    assert.ok(differing.some((d) => d.key === "cpuset"));
    assert.deepEqual(same.map((s) => s.key), ["tools"]);
  });
});

describe("domain XML of every KVM preset, as stacks/kvm-spec.ts renders it", () => {
  const spec = (options: KvmOptions, type: DomainType) => ({
    name: "virtperf-t-kvm", type, stack: "t", environment: "kvm", options, cpus: [2, 3], memoryMiB: 1024, threadsPerCore: 1,
    disk: { path: `/g/t.${options.diskFormat}`, format: options.diskFormat }, mac: macFor("virtperf-t-kvm"), network: "default", consoleLog: "/g/t.log",
  });
  const cases = [
    { preset: "kvm", cpuset: "2,3 (2 vCPUs floating over them, not pinned)", memory: "1024 MiB", network: "libvirt NAT network 'default', virtio-net, 1 queue", storage: "qcow2, virtio-blk, cache default" },
    { preset: "kvm-tuned", cpuset: "2,3 (2 vCPUs pinned 1:1, emulator on 2,3)", memory: "1024 MiB (hugepages)", network: "libvirt NAT network 'default', virtio-net, 2 queues", storage: "raw, virtio-blk, cache=none, io=native" },
  ] as const;
  for (const c of cases) {
    it(c.preset, () => {
      const domainXml = renderDomainXml(spec(PRESETS[c.preset] as KvmOptions, "kvm"));
      const f: RunFacts = { dir: "", host: null, environments: new Map([["kvm", { kind: "kvm", domainXml }]]), unreadable: [] };
      const a = aspectsOf("kvm", f, []);
      assert.deepEqual([a.cpuset, a.memory, a.network, a.storage], [c.cpuset, c.memory, c.network, c.storage]);
    });
  }
});

describe("facts read defensively: odd or missing facts are unknown, never a crash", () => {
  const oneRecord = (env: string, kind: string) => records.filter((r) => r.record.kind === kind).slice(0, 1).map((r) => ({ ...r, record: { ...r.record, environment: env } }));
  const odd: unknown[] = [null, [], "text", 42, {}, { inspect: "x", inside: [], daemon: null, volume: 3 }, { limits: { probe: null, mode: 7 } },
    { domainXml: 5 }, { domainXml: "<domain type='kvm'><vcpu>x</vcpu><interface><disk device='disk'>" }, { guestVcpus: "two", guestMemTotalKiB: null }];
  for (const kind of ["native", "docker", "kvm"]) {
    it(`${kind}: ${odd.length} odd facts files`, () => {
      for (const o of odd) {
        const f: RunFacts = { dir: "", host: kind === "native" ? o : null, environments: kind === "native" ? new Map() : new Map([["e", o]]), unreadable: [] };
        const a = aspectsOf("e", f, oneRecord("e", kind));
        for (const v of Object.values(a)) assert.equal(typeof v, "string");
        assert.ok(!Object.values(a).some((v) => /undefined|NaN|\[object/.test(v!)), JSON.stringify(a));
      }
    });
  }
  it("a cgroup v2 'max' and a taskset-only native read as unlimited", () => {
    const f = (host: unknown): RunFacts => ({ dir: "", host, environments: new Map(), unreadable: [] });
    const native = oneRecord("n", "native");
    assert.equal(aspectsOf("n", f({ limits: { mode: "cgroup2", probe: { cpusAllowed: "3", memoryLimit: "max" } } }), native).memory, "unlimited");
    const taskset = aspectsOf("n", f({ limits: { mode: "taskset", probe: { cpusAllowed: "0-3", memoryLimit: "9223372036854771712" } } }), native);
    assert.deepEqual([taskset.cpuset, taskset.memory], ["0-3 (taskset, no cgroup)", "unlimited (taskset sets no memory limit)"]);
  });
  const proxyCases = [
    { facts: { daemon: { userlandProxy: false } }, network: "Docker bridge with NAT, no ports published, userland proxy off" },
    { facts: { portPath: "docker-proxy (userland relay)" }, network: "Docker bridge with NAT, no ports published, via the userland proxy (docker-proxy)" },
    { facts: { portPath: "iptables NAT" }, network: "Docker bridge with NAT, no ports published, via kernel NAT (iptables), no userland proxy" },
    { facts: { portPath: "unknown (remote daemon)" }, network: "Docker bridge with NAT, no ports published, port path: unknown (remote daemon)" },
  ];
  for (const c of proxyCases) {
    it(`Docker's port path is shown when the facts say so: ${JSON.stringify(c.facts)}`, () => {
      const f: RunFacts = { dir: "", host: null, environments: new Map([["d", { inspect: { networkMode: "bridge", portBindings: {} }, ...c.facts }]]), unreadable: [] };
      assert.equal(aspectsOf("d", f, oneRecord("d", "docker")).network, c.network);
    });
  }
});

describe("facts schemas (model/facts.ts) read every committed facts file", () => {
  const root = new URL("../../fixtures/records/", import.meta.url);
  for (const run of ["real-smoke-2026-11-26", "generated-lab", "generated-marks"]) {
    for (const file of readdirSync(new URL(`${run}/facts/`, root))) {
      const text = readFixture(new URL(`${run}/facts/${file}`, root), "utf8");
      let json: { kind?: KindName };
      try { json = JSON.parse(text); } catch { continue; } // a deliberately broken file: the reader's own test
      const kind = file === "host.json" ? "native" : json.kind!;
      it(`${run}/facts/${file} fits the ${kind} schema`, () => assert.equal(parseFacts(kind, json).problem, undefined));
    }
  }
});
