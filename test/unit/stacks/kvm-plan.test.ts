import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { parseExperiment } from "../../../stacks/config.ts";
import { ProvisionError } from "../../../lib/errors.ts";
import { PRESETS } from "../../../stacks/kinds.ts";
import { domainSpecFor, planKvm } from "../../../stacks/kvm/plan.ts";
import { renderDomainXml } from "../../../stacks/kvm/domain.ts";
import { GUEST_BASE_PACKAGES, guestImage, guestPackages, planGuestImage } from "../../../stacks/kvm/guest-image.ts";
import { WORKLOADS } from "../../../workloads/registry.ts";
import { KVM_NOT_USABLE, KVM_PROVEN } from "../../helpers/kvm-proofs.ts";

const x = parseExperiment({
  environments: ["native", "kvm", "kvm-tuned"], workloads: ["xz", "fio"], profile: "smoke",
  scratchDir: "/scratch", cpuset: "0-1", memoryMiB: 1024,
}, "citest", { cpus: [0, 1], memoryMiB: 24105 });
const tcg = { kvm: KVM_NOT_USABLE, threadsPerCore: 1 };
const envOf = (name: string) => x.environments.find((e) => e.name === name)!;

describe("planKvm", () => {
  const presets = [
    { env: "kvm", index: 1, roles: ["disk", "domain"], disk: "/scratch/guests/citest-kvm.qcow2", make: "qemu-img create -q -f qcow2" },
    { env: "kvm-tuned", index: 2, roles: ["disk", "hugepages", "domain"], disk: "/scratch/guests/citest-kvm-tuned.raw", make: "qemu-img convert -q -O raw" },
  ] as const;
  for (const p of presets) {
    it(`${p.env}: commands, target, ports, shape`, () => {
      const plan = planKvm(x, envOf(p.env), p.index, tcg);
      const img = guestImage(x);
      assert.equal(plan.acceleration, "tcg");
      assert.deepEqual(plan.commands.map((c) => c.role), [...p.roles]);
      const keys = `/scratch/guests/citest-${p.env}.ssh`;
      assert.deepEqual(plan.target, { kind: "guest", domain: `virtperf-citest-${p.env}`, user: "root", identityFile: `${keys}/id_ed25519`, knownHostsFile: `${keys}/known_hosts` });
      assert.deepEqual(plan.ports, [0, 1, 2, 3].map((i) => 21000 + 10 * p.index + i));
      assert.deepEqual(plan.shape, { cpus: 2, memoryMiB: 1024 });
      const disk = plan.commands[0]!;
      assert.ok(disk.create.includes(p.make) && disk.create.includes(img.base) && disk.create.includes(p.disk));
      assert.equal(disk.delete, `rm -rf ${p.disk} ${p.disk.replace(/\.\w+$/, ".seed.img")} ${keys}\n`);
      const domain = plan.commands.at(-1)!;
      const xml = renderDomainXml(domainSpecFor(x, envOf(p.env), "tcg", tcg, img));
      assert.ok(domain.create.includes(xml), "the domain script carries the rendered XML verbatim");
      for (const word of ["virt-xml-validate", "virsh define", "virsh start", "guest_address"]) assert.ok(domain.create.includes(word), word);
      for (const word of ["virsh destroy", "virsh undefine"]) assert.ok(domain.delete!.includes(word), word);
      assert.match(plan.facts, /virsh dumpxml/);
    });
  }
  it("domain type follows the acceleration", () => {
    const kvm = planKvm(x, envOf("kvm-tuned"), 2, { kvm: KVM_PROVEN });
    assert.equal(kvm.acceleration, "kvm");
    assert.match(kvm.commands.at(-1)!.create, /<domain type='kvm'>[\s\S]*<cpu mode='host-passthrough'/);
    assert.match(kvm.commands.at(-1)!.create, /\/dev\/kvm/);
    assert.match(planKvm(x, envOf("kvm"), 1, tcg).commands.at(-1)!.create, /<domain type='qemu'>/);
  });
  it("refuses a non-kvm environment", () => assert.throws(() => planKvm(x, envOf("native"), 0, tcg), ProvisionError));
  it("every script is valid bash", () => {
    const plans = [planKvm(x, envOf("kvm"), 1, tcg), planKvm(x, envOf("kvm-tuned"), 2, { kvm: KVM_PROVEN })];
    const scripts = plans.flatMap((p) => [p.facts, ...p.commands.flatMap((c) => [c.create, c.delete ?? ""])]);
    scripts.push(planGuestImage(x).create, planGuestImage({ ...x, guestImage: "/img/cloud.qcow2" }).create);
    for (const s of scripts) {
      const r = spawnSync("bash", ["-n"], { input: s, encoding: "utf8" });
      assert.equal(r.status, 0, `${r.stderr}\n${s.slice(0, 300)}`);
    }
  });
});

describe("guest image", () => {
  it("packages: the guest's own plus every workload's env-side packages, sorted and unique", () => {
    const pk = guestPackages();
    assert.deepEqual(pk, [...new Set(pk)].sort());
    for (const p of GUEST_BASE_PACKAGES) assert.ok(pk.includes(p), p);
    for (const w of Object.values(WORKLOADS)) for (const p of w.packages) assert.ok(pk.includes(p), `${w.name}: ${p}`);
  });
  it("is cached by content: same inputs same path, other packages or suite another", () => {
    const a = guestImage(x);
    assert.equal(guestImage(x).base, a.base);
    assert.match(a.base, /^\/scratch\/images\/guest-[0-9a-f]{16}\.img$/);
    assert.notEqual(guestImage(x, [...guestPackages(), "htop"]).base, a.base);
    assert.notEqual(guestImage({ ...x, debianSuite: "trixie" }).base, a.base);
  });
  it("build command: mmdebstrap with the packages, mkfs.ext4 -d, the root key", () => {
    const c = planGuestImage(x);
    assert.ok(c.create.includes(`PACKAGES=${guestPackages().join(",")}`));
    for (const w of ["flock", "mmdebstrap", "mkfs.ext4", "authorized_keys", "mariadb.socket", "iface eth0 inet dhcp"]) assert.ok(c.create.includes(w), w);
    assert.equal(c.delete, undefined, "the image is a cache, kept on destroy");
  });
  it("a user image is used as given, booted from disk", () => {
    const u = { ...x, guestImage: "/img/cloud.qcow2" };
    assert.equal(guestImage(u).kind, "user");
    const plan = planKvm(u, envOf("kvm"), 1, tcg);
    assert.ok(plan.commands[0]!.create.includes("-b /img/cloud.qcow2"));
    assert.ok(plan.commands.at(-1)!.create.includes("<boot dev='hd'/>"));
  });
});
