import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PRESETS } from "../../../stacks/kinds.ts";
import type { KvmOptions } from "../../../stacks/kvm/options.ts";
import { cpuModeFor, macFor, renderDomainXml, topologyFor, type DomainSpec, type DomainType } from "../../../stacks/kvm/domain.ts";

function spec(options: KvmOptions, type: DomainType, over: Partial<DomainSpec> = {}): DomainSpec {
  return {
    name: "virtperf-citest-env", type, stack: "citest", environment: "env", options,
    cpus: [2, 3, 5], memoryMiB: 1536, threadsPerCore: 1,
    disk: { path: `/scratch/guests/citest-env.${options.diskFormat}`, format: options.diskFormat },
    boot: { kernel: "/scratch/images/g.vmlinuz", initrd: "/scratch/images/g.initrd", cmdline: "root=/dev/vda console=ttyS0" },
    mac: macFor("virtperf-citest-env"), network: "default", consoleLog: "/scratch/guests/citest-env.console.log",
    ...over,
  };
}

/** All matches of a regex's first group. */
function all(xml: string, re: RegExp): string[] {
  return [...xml.matchAll(new RegExp(re, "g"))].map((m) => m[1]!);
}

const cases = [
  { preset: "kvm", type: "qemu", cpuMode: "custom", pins: [], vcpuCpuset: "2,3,5", hugepages: false, driver: "<driver name='qemu' type='qcow2'/>", queues: undefined, accel: "tcg" },
  { preset: "kvm", type: "kvm", cpuMode: "custom", pins: [], vcpuCpuset: "2,3,5", hugepages: false, driver: "<driver name='qemu' type='qcow2'/>", queues: undefined, accel: "kvm" },
  { preset: "kvm-tuned", type: "kvm", cpuMode: "host-passthrough", pins: ["0:2", "1:3", "2:5"], vcpuCpuset: undefined, hugepages: true, driver: "<driver name='qemu' type='raw' cache='none' io='native'/>", queues: "3", accel: "kvm" },
  { preset: "kvm-tuned", type: "qemu", cpuMode: "maximum", pins: ["0:2", "1:3", "2:5"], vcpuCpuset: undefined, hugepages: true, driver: "<driver name='qemu' type='raw' cache='none' io='native'/>", queues: "3", accel: "tcg" },
] as const;

describe("renderDomainXml", () => {
  for (const c of cases) {
    it(`${c.preset} as domain type ${c.type}`, () => {
      const xml = renderDomainXml(spec(PRESETS[c.preset], c.type));
      assert.deepEqual(all(xml, /<domain type='(\w+)'>/), [c.type]);
      assert.deepEqual(all(xml, /<name>([^<]+)<\/name>/), ["virtperf-citest-env"]);
      assert.deepEqual(all(xml, /<memory unit='MiB'>(\d+)<\/memory>/), ["1536"]);
      assert.deepEqual(all(xml, /<vcpu placement='static'[^>]*>(\d+)<\/vcpu>/), ["3"]);
      assert.deepEqual(all(xml, /<vcpu placement='static' cpuset='([^']+)'/), c.vcpuCpuset ? [c.vcpuCpuset] : []);
      assert.deepEqual(all(xml, /<cpu mode='([\w-]+)'/), c.cpuMode ? [c.cpuMode] : []);
      assert.deepEqual([...xml.matchAll(/<vcpupin vcpu='(\d+)' cpuset='(\d+)'\/>/g)].map((m) => `${m[1]}:${m[2]}`), [...c.pins]);
      assert.equal(xml.includes("<memoryBacking><hugepages/></memoryBacking>"), c.hugepages);
      assert.ok(xml.includes(c.driver), `disk driver ${c.driver}`);
      assert.deepEqual(all(xml, /<driver queues='(\d+)'\/>/), c.queues ? [c.queues] : []);
      assert.deepEqual(all(xml, /acceleration='(\w+)'/), [c.accel]);
      assert.ok(xml.includes("<source network='default'/>") && xml.includes("<model type='virtio'/>"));
      assert.ok(xml.includes("<target dev='vda' bus='virtio'/>"));
    });
  }

  it("tuned topology matches the host's threads per core, generic has none", () => {
    const tuned = renderDomainXml(spec(PRESETS["kvm-tuned"], "kvm", { cpus: [0, 1, 2, 3], threadsPerCore: 2 }));
    assert.deepEqual(all(tuned, /<topology ([^/]+)\/>/), ["sockets='1' dies='1' cores='2' threads='2'"]);
    assert.equal(renderDomainXml(spec(PRESETS.kvm, "kvm")).includes("<topology"), false);
  });

  it("labels TCG in the description so dumpxml never passes it as KVM", () => {
    assert.match(renderDomainXml(spec(PRESETS.kvm, "qemu")), /<description>[^<]*QEMU TCG[^<]*NOT KVM/);
    assert.doesNotMatch(renderDomainXml(spec(PRESETS.kvm, "kvm")), /TCG/);
  });

  it("boots from the disk when there is no kernel (user cloud image)", () => {
    const xml = renderDomainXml(spec(PRESETS.kvm, "qemu", { boot: undefined }));
    assert.ok(xml.includes("<boot dev='hd'/>"));
    assert.equal(xml.includes("<kernel>"), false);
  });

  it("escapes paths", () => {
    const xml = renderDomainXml(spec(PRESETS.kvm, "qemu", { disk: { path: "/a&b/<x>'.qcow2", format: "qcow2" } }));
    assert.ok(xml.includes("<source file='/a&amp;b/&lt;x&gt;&apos;.qcow2'/>"));
  });
});

describe("helpers", () => {
  const topo = [
    { vcpus: 4, threads: 2, want: { sockets: 1, cores: 2, threads: 2 } },
    { vcpus: 3, threads: 2, want: { sockets: 1, cores: 3, threads: 1 } },
    { vcpus: 2, threads: 1, want: { sockets: 1, cores: 2, threads: 1 } },
  ];
  for (const t of topo) it(`topologyFor(${t.vcpus}, ${t.threads})`, () => assert.deepEqual(topologyFor(t.vcpus, t.threads), t.want));
  it("cpuModeFor", () => {
    assert.equal(cpuModeFor(PRESETS["kvm-tuned"], "kvm"), "host-passthrough");
    assert.equal(cpuModeFor(PRESETS["kvm-tuned"], "qemu"), "maximum");
    assert.equal(cpuModeFor(PRESETS.kvm, "kvm"), "custom");
    assert.match(renderDomainXml(spec(PRESETS.kvm, "qemu")), /<model fallback='forbid'>Nehalem<\/model>/);
  });
  it("macFor is stable, distinct per name and libvirt-prefixed", () => {
    assert.equal(macFor("a"), macFor("a"));
    assert.notEqual(macFor("virtperf-s-kvm"), macFor("virtperf-s-kvm-tuned"));
    assert.match(macFor("a"), /^52:54:00(:[0-9a-f]{2}){3}$/);
  });
});

function validate(file: string): { status: number | null; stderr: string } {
  const r = spawnSync("virt-xml-validate", [file, "domain"], { encoding: "utf8" });
  return { status: r.status, stderr: `${r.stdout}${r.stderr}` };
}

describe("virt-xml-validate accepts the rendered XML", () => {
  const dir = mkdtempSync(join(tmpdir(), "virtperf-xml-"));
  for (const c of cases) {
    it(`${c.preset} (${c.type})`, () => {
      const file = join(dir, `${c.preset}-${c.type}.xml`);
      writeFileSync(file, renderDomainXml(spec(PRESETS[c.preset], c.type)));
      const r = validate(file);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /validates/);
    });
  }
  it("and rejects a broken one (the check can fail)", () => {
    const file = join(dir, "broken.xml");
    writeFileSync(file, renderDomainXml(spec(PRESETS.kvm, "qemu")).replace("<memory unit='MiB'>", "<memory unit='MiB'>x"));
    const r = validate(file);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /fails to validate/);
  });
  it("cleanup", () => rmSync(dir, { recursive: true, force: true }));
});
