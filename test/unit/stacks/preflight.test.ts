/**
 * Pre-flight, pure part: the KVM proof's checks from its output (each failure through the parser, the
 * seam), the acceleration each proof leads to, and the host checks from observations: this machine's
 * real ones (captured), and the same with one fact changed per failure.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseExperiment } from "../../../stacks/config.ts";
import { parseKvmProof, resolveAcceleration, failedCheck } from "../../../stacks/kvm/acceleration.ts";
import { evaluate, failures, parseObservations, type Check } from "../../../stacks/preflight/checks.ts";
import { assertPreflight, observationScript, preflight, OBSERVATIONS_ENV } from "../../../stacks/preflight/preflight.ts";
import { renderChecks } from "../../../stacks/preflight/table.ts";
import { PreflightError, ProvisionError } from "../../../lib/errors.ts";
import { KVM_NOT_USABLE, KVM_PROVEN, NO_VMX_TEXT, PROVEN_TEXT, proofWith } from "../../helpers/kvm-proofs.ts";

const REAL = readFileSync(new URL("../../fixtures/host/observations-dev-2cpu-no-vmx.txt", import.meta.url), "utf8");
const host = { cpus: [0, 1], memoryMiB: 24105 };
const xOf = (cfg: Record<string, unknown>) => parseExperiment({ memoryMiB: 1024, profile: "smoke", ...cfg }, "dev", host);
const ALL = xOf({ environments: ["native", "docker", "docker-host-volume", "kvm", "kvm-tuned"] });
const byId = (checks: readonly Check[], id: string) => checks.find((c) => c.id === id);

describe("KVM proof: each check, in order, the first failure ends it", () => {
  const cases: [string, string, string | undefined, RegExp][] = [
    ["this machine: no vmx/svm", NO_VMX_TEXT, "cpu-virt", /AMD-V \(SVM\) in the firmware/],
    ["an Intel CPU without vmx", proofWith(NO_VMX_TEXT, { vendor: "GenuineIntel" }), "cpu-virt", /VT-x/],
    ["/dev/kvm absent", proofWith(PROVEN_TEXT, { device: "absent", modules: "" }), "kvm-device", /modprobe kvm_amd/],
    ["/dev/kvm not a device", proofWith(PROVEN_TEXT, { device: "not a character device" }), "kvm-device", /modprobe/],
    ["libvirt-qemu cannot open it (crw------- root:root)", proofWith(PROVEN_TEXT, { device: "crw------- root:root", open: "denied" }), "qemu-user", /usermod -aG kvm libvirt-qemu/],
    ["the guest starts and never boots", proofWith(PROVEN_TEXT, { boot: "timeout", line: undefined }), "kvm-boot", /nested virtualization/],
    ["QEMU aborts (failed to set MSR)", proofWith(PROVEN_TEXT, { boot: "exited", rc: "134", line: undefined, stderr: "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" }), "kvm-boot", /virt-host-validate/],
    ["empty output", "", "cpu-virt", /doctor/],
    ["every check passes", PROVEN_TEXT, undefined, /./],
  ];
  for (const [what, text, failing, fix] of cases) {
    it(what, () => {
      const proof = parseKvmProof(text);
      assert.deepEqual(proof.checks.map((c) => c.id), ["cpu-virt", "kvm-device", "qemu-user", "kvm-boot"]);
      const failed = failedCheck(proof);
      assert.equal(failed?.id, failing);
      assert.equal(proof.usable, failing === undefined);
      if (failed) {
        assert.match(failed.fix ?? "", fix);
        const after = proof.checks.slice(proof.checks.indexOf(failed) + 1);
        assert.ok(after.every((c) => c.ok === null && /not run/.test(c.detail)), JSON.stringify(after));
      }
    });
  }
  it("the boot check names the payload and the line it saw", () => {
    assert.match(KVM_PROVEN.checks[3]!.detail, /kernel .*vmlinuz: "\[ +0\.000000\] Linux version/);
  });
});

describe("resolveAcceleration: KVM only on proof", () => {
  it("auto + proof passed -> KVM", () => assert.equal(resolveAcceleration("auto", KVM_PROVEN).acceleration, "kvm"));
  it("auto + proof failed -> TCG, the reason names the failed check", () => {
    const r = resolveAcceleration("auto", KVM_NOT_USABLE);
    assert.equal(r.acceleration, "tcg");
    assert.match(r.reason, /cpu-virt: the CPU \(AuthenticAMD\) advertises neither vmx nor svm/);
  });
  it("tcg -> TCG whatever the proof", () => assert.equal(resolveAcceleration("tcg", KVM_PROVEN).acceleration, "tcg"));
  it("kvm + proof passed -> KVM", () => assert.equal(resolveAcceleration("kvm", KVM_PROVEN).acceleration, "kvm"));
  it("kvm + proof failed -> refused, naming the check and its fix", () => {
    const denied = parseKvmProof(proofWith(PROVEN_TEXT, { open: "denied" }));
    assert.throws(() => resolveAcceleration("kvm", denied), (e: unknown) =>
      e instanceof ProvisionError && /qemu-user/.test(e.shortMessage) && e.suggestions.some((s) => /chmod 0660 \/dev\/kvm/.test(s)));
  });
});

describe("host checks from observations", () => {
  it("this machine's real observations: nothing fails; TCG is a warning naming cpu-virt", () => {
    const checks = evaluate(ALL, parseObservations(REAL));
    assert.deepEqual(failures(checks), [], renderChecks(checks));
    assert.equal(byId(checks, "acceleration")?.status, "warn");
    assert.match(byId(checks, "acceleration")!.detail, /cpu-virt/);
    assert.deepEqual(["kvm:kvm-device", "kvm:qemu-user", "kvm:kvm-boot"].map((id) => byId(checks, id)?.status), ["skip", "skip", "skip"]);
  });

  const broken: [string, Record<string, unknown>, string, string, RegExp][] = [
    ["dockerd down", {}, "docker.down=Cannot connect to the Docker daemon", "docker-daemon", /scripts\/services\.sh docker/],
    ["docker without memory limits", {}, "docker.warnings=WARNING: No memory limit support; WARNING: No swap limit support", "docker-limits", /cgroup/],
    ["libvirtd down", {}, "libvirt.down=error: failed to connect to the hypervisor", "libvirt-daemon", /services\.sh libvirt/],
    ["default network inactive", {}, "libvirt.network=no", "libvirt-network", /virsh net-start default/],
    ["default network undefined", {}, "libvirt.network=undefined", "libvirt-network", /net-define/],
    ["fio missing", {}, "tool.fio=missing", "tools:native", /apt-get install fio/],
    ["qemu broken", {}, "tool.qemu-system-x86_64=broken (exit 127) error while loading shared libraries", "tools:kvm", /qemu-system-x86/],
    ["no hugetlbfs", {}, "hugepages.mounted=no", "hugepages", /mount -t hugetlbfs/],
    ["hugepages short", {}, "hugepages.reserve=100/512", "hugepages", /hugepages=N/],
    ["disk full", {}, "disk.ioDir=1048576 65024 /var/lib/virtperf\ndisk.scratchDir=1048576 65024 /var/lib/virtperf\ndisk.dockerRoot=1048576 65024 /var/lib/docker", "disk:", /free space/],
    ["full profile's 16 GiB fio file on a 10 GiB disk", { profile: "full", workloads: ["fio"] }, "disk.ioDir=10737418240 65024 /var/lib/virtperf\ndisk.scratchDir=10737418240 65024 /var/lib/virtperf\ndisk.dockerRoot=10737418240 65024 /var/lib/docker", "disk:", /smaller profile/],
    ["not enough memory for the guests", {}, "mem.availableKiB=2097152", "memory", /memoryMiB/],
    ["CPU set not online on the host", {}, "cpus.online=0", "cpuset", /virtperf:cpuset/],
  ];
  for (const [what, cfg, line, id, fix] of broken) {
    it(`${what}: ${id} fails with its fix`, () => {
      const x = xOf({ environments: ["native", "docker", "docker-host-volume", "kvm", "kvm-tuned"], ...cfg });
      const checks = evaluate(x, parseObservations(`${REAL}\n${line}`));
      const c = id === "disk:" ? checks.find((k) => k.id.startsWith("disk:")) : byId(checks, id);
      assert.equal(c?.status, "fail", JSON.stringify(c));
      assert.match(c!.fix ?? "", fix);
      assert.ok(c!.for.length > 0);
    });
  }

  it("a failed check names the environments that need it, and only those", () => {
    const c = byId(evaluate(ALL, parseObservations(`${REAL}\nhugepages.mounted=no`)), "hugepages")!;
    assert.deepEqual(c.for, ["kvm-tuned"]);
    const d = byId(evaluate(ALL, parseObservations(`${REAL}\ndocker.down=x`)), "docker-daemon")!;
    assert.deepEqual(d.for, ["docker", "docker-host-volume"]);
  });

  it("only what the stack needs is checked: a native-only stack has no Docker, libvirt or KVM rows", () => {
    const checks = evaluate(xOf({ environments: ["native"] }), parseObservations(`${REAL}\ndocker.down=x\nlibvirt.down=x`));
    assert.deepEqual(checks.filter((c) => /docker|libvirt|kvm|acceleration|hugepages/.test(c.id)).map((c) => c.id), []);
    assert.deepEqual(failures(checks), []);
  });

  it("cgroups not writable: native is warned it gets no memory limit", () => {
    const c = byId(evaluate(ALL, parseObservations(`${REAL}\ncgroup.v1.memory=read-only`)), "cgroups")!;
    assert.equal(c.status, "warn");
    assert.match(c.detail, /NO memory limit/);
  });

  it("docker's userland proxy on: a warning for the bridge environments only", () => {
    const x = xOf({ environments: ["docker", "docker-host-volume"] });
    const c = byId(evaluate(x, parseObservations(`${REAL}\ndocker.userlandProxy=default`)), "docker-nat-path")!;
    assert.equal(c.status, "warn");
    assert.deepEqual(c.for, ["docker"]);
  });

  it("acceleration kvm on a failing proof: the proof's failed row and the decision fail", () => {
    const checks = evaluate(xOf({ environments: ["kvm"], acceleration: "kvm" }), parseObservations(REAL));
    assert.deepEqual(failures(checks).map((c) => c.id), ["kvm:cpu-virt", "acceleration"]);
  });

  it("acceleration tcg: no proof is run or asked for", () => {
    const x = xOf({ environments: ["kvm"], acceleration: "tcg" });
    assert.doesNotMatch(observationScript(x), /kvm_proof$/m);
    assert.equal(byId(evaluate(x, parseObservations(REAL)), "acceleration")?.status, "ok");
  });
});

describe("preflight with injected observations", () => {
  it("returns the proof the planner needs, and assertPreflight passes", () => {
    const p = preflight(ALL, { [OBSERVATIONS_ENV]: REAL });
    assert.equal(p.proof?.usable, false);
    assert.doesNotThrow(() => assertPreflight(ALL, p));
  });
  it("a failure throws PreflightError with the whole table and the fixes as suggestions", () => {
    const p = preflight(ALL, { [OBSERVATIONS_ENV]: `${REAL}\ntool.fio=missing` });
    assert.throws(() => assertPreflight(ALL, p), (e: unknown) =>
      e instanceof PreflightError && /native tools \(native\)/.test(e.shortMessage) && /FAIL/.test(e.table) && /CPU set on the host/.test(e.table)
      && e.suggestions.some((s) => /apt-get install fio/.test(s)));
  });
  it("the table lists every check with its result, and the fix under each one not ok", () => {
    const table = renderChecks(evaluate(ALL, parseObservations(`${REAL}\nlibvirt.network=no`)), 160);
    assert.match(table, /libvirt network 'default' active\s+FAIL/);
    assert.match(table, /fix: virsh net-start default/);
    assert.match(table, /\d+ checks: \d+ ok, \d+ warnings, 1 failed, 3 not run$/);
  });
});
