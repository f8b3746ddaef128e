/**
 * The kvm-docker kind, pure: its presets are kvm's guest options plus docker's container options; its
 * plan is stacks/kvm's guest (same domain XML as a `kvm` environment of the same options, on the image
 * with Docker) and stacks/docker's container with the nesting's CPU set, memory, ports and volume; the
 * runner reaches it through the guest; its image is its own (the base guest image is untouched); its
 * references name the stack's guest alone and container alone; its pre-flight shares the guests'.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { parseExperiment } from "../../../stacks/config.ts";
import { ConfigError, ProvisionError } from "../../../lib/errors.ts";
import { PRESETS, kindModule } from "../../../stacks/kinds.ts";
import { plan as planStack } from "../../../stacks/planner.ts";
import { domainSpecFor, planKvm } from "../../../stacks/kvm/plan.ts";
import { renderDomainXml } from "../../../stacks/kvm/domain.ts";
import { guestImage, planGuestImage } from "../../../stacks/kvm/guest-image.ts";
import { argvToBash, planDockerImage, renderDockerRun } from "../../../stacks/docker/spec.ts";
import { allPackages } from "../../../workloads/registry.ts";
import { GUEST_SYSTEM_MIB, guestDef, planKvmDocker } from "../../../stacks/kvm-docker/plan.ts";
import { GUEST_DOCKER_IMAGE, guestDockerImage, guestDockerPackages, planGuestDockerImage } from "../../../stacks/kvm-docker/image.ts";
import { kvmDockerReferences } from "../../../stacks/kvm-docker/index.ts";
import { observationScript } from "../../../stacks/preflight/preflight.ts";
import { evaluate, heldMemory, parseObservations } from "../../../stacks/preflight/checks.ts";
import { environmentProblem } from "../../../model/environment.ts";
import { environmentDescription } from "../../../stacks/planner.ts";
import { targetProblem } from "../../../model/target-check.ts";
import { KVM_NOT_USABLE, KVM_PROVEN } from "../../helpers/kvm-proofs.ts";

const host = { cpus: [0, 1, 2, 3], memoryMiB: 24105 };
const x = parseExperiment({
  environments: ["native", "docker", "docker-host-volume", "kvm", "kvm-tuned", "kvm-docker", "kvm-tuned-docker-host-volume"],
  workloads: ["xz", "nuttcp", "fio"], profile: "smoke", scratchDir: "/scratch", cpuset: "1-3", memoryMiB: 2048,
}, "citest", host);
const tcg = { kvm: KVM_NOT_USABLE, threadsPerCore: 1 };
const tools = planDockerImage(x, allPackages()).tag;
const envOf = (name: string) => x.environments.find((e) => e.name === name)!;
const planOf = (name: string, index = 5, probe = tcg) => planKvmDocker(x, envOf(name), index, probe, tools);

describe("kvm-docker presets", () => {
  it("are kvm's guest options plus docker's container options", () => {
    const { kind: _k, ...kvm } = PRESETS.kvm, { kind: _d, ...docker } = PRESETS.docker;
    assert.deepEqual(PRESETS["kvm-docker"], { kind: "kvm-docker", ...kvm, ...docker });
    const { kind: _t, ...tuned } = PRESETS["kvm-tuned"], { kind: _v, ...hostVolume } = PRESETS["docker-host-volume"];
    assert.deepEqual(PRESETS["kvm-tuned-docker-host-volume"], { kind: "kvm-docker", ...tuned, ...hostVolume });
  });
  it("a custom environment sets guest and container options side by side; unknown options are refused", () => {
    const y = parseExperiment({ environments: [{ name: "nested-host", preset: "kvm-docker", network: "host", pinning: true }] }, "citest", host);
    assert.deepEqual(y.environments[0]!.options, { ...PRESETS["kvm-docker"], network: "host", pinning: true });
    assert.throws(() => parseExperiment({ environments: [{ name: "n", preset: "kvm-docker", runtime: "runsc" }] }, "citest", host),
      (e: unknown) => e instanceof ConfigError && /options of kind kvm-docker/.test(e.message));
  });
});

describe("planKvmDocker", () => {
  for (const name of ["kvm-docker", "kvm-tuned-docker-host-volume"] as const) {
    it(`${name}: the guest is kvm's (same domain XML as a kvm environment of the same options), booted from the image with Docker`, () => {
      const p = planOf(name);
      const img = guestDockerImage(x, tools);
      const xml = renderDomainXml(domainSpecFor(x, guestDef(envOf(name)), "tcg", tcg, img));
      // A kvm environment of the same name and guest options plans the same guest, but on the base image.
      const alone = planKvm(x, guestDef(envOf(name)), 5, tcg);
      const swap = (s: string) => s.replaceAll(guestImage(x).base, img.base).replaceAll(guestImage(x).kernel!, img.kernel!).replaceAll(guestImage(x).initrd!, img.initrd!);
      assert.equal(renderDomainXml(p.spec.guest), xml);
      assert.equal(swap(renderDomainXml(alone.spec)), xml);
      assert.deepEqual(p.commands.map((c) => c.role), [...alone.commands.map((c) => c.role), "container"]);
      for (const [i, c] of alone.commands.entries()) assert.equal(p.commands[i]!.create, swap(c.create).replaceAll(guestImage(x).hash, img.hash), c.role);
      assert.equal(p.acceleration, "tcg");
      assert.match(p.accelerationReason!, /TCG/);
      assert.equal(planOf(name, 5, { kvm: KVM_PROVEN, threadsPerCore: 1 }).acceleration, "kvm");
    });

    it(`${name}: the container has all of the guest's vCPUs, its memory less ${GUEST_SYSTEM_MIB} MiB, no swap`, () => {
      const p = planOf(name);
      const c = p.spec.container;
      assert.equal(p.spec.guest.cpus.length, 3);
      assert.equal(c.cpusetCpus, "0-2", "inside the guest: its vCPUs 0..n-1, not the host's CPU numbers");
      assert.equal(c.memoryBytes, (2048 - GUEST_SYSTEM_MIB) * 2 ** 20);
      assert.deepEqual(p.shape, { cpus: 3, memoryMiB: 2048 - GUEST_SYSTEM_MIB });
      // The container step runs exactly docker's argv for the spec (inside the guest).
      assert.ok(p.commands.at(-1)!.create.includes(argvToBash(renderDockerRun(c))));
      assert.ok(renderDockerRun(c).includes(`${c.memoryBytes}b`) && renderDockerRun(c).includes("--memory-swap"));
      assert.equal(c.image, tools);
    });
  }

  it("kvm-docker: bridge ports published 1:1 on every guest address; the runner goes through the guest", () => {
    const p = planOf("kvm-docker", 5);
    assert.deepEqual(p.ports, [21050, 21051, 21052, 21053]);
    assert.deepEqual(new Set(p.spec.container.ports.map((q) => q.hostIp)), new Set(["0.0.0.0"]));
    assert.deepEqual(p.spec.container.ports.map((q) => `${q.port}/${q.protocol}`), p.ports.flatMap((q) => [`${q}/tcp`, `${q}/udp`]));
    assert.deepEqual(p.target, { kind: "docker", container: "virtperf-citest-kvm-docker", via: p.spec.guestTarget });
    assert.equal(p.spec.guestTarget.domain, "virtperf-citest-kvm-docker");
    assert.equal(targetProblem(p.target), undefined);
    assert.equal(p.spec.container.volume, undefined);
    assert.equal(p.dataDir, "/data");
  });

  it("kvm-tuned-docker-host-volume: host network, a volume on the guest's disk, hugepages for the guest", () => {
    const p = planOf("kvm-tuned-docker-host-volume");
    assert.equal(p.spec.container.networkMode, "host");
    assert.deepEqual(p.spec.container.ports, []);
    assert.equal(p.spec.container.volume!.hostDir, "/var/lib/virtperf/docker-volumes/virtperf-citest-kvm-tuned-docker-host-volume");
    assert.deepEqual(p.commands.map((c) => c.role), ["disk", "hugepages", "domain", "container"]);
    const up = p.commands.at(-1)!.create;
    assert.match(up, /mkdir -p \/var\/lib\/virtperf\/docker-volumes\/virtperf-citest-kvm-tuned-docker-host-volume\ndocker volume create/);
    assert.doesNotMatch(up, /\/scratch\/io/, "nothing of the container's lives on the host");
  });

  it("the container step checks the guest's dockerd holds the tools image of the saved id, replaces a leftover; delete only while the guest runs", () => {
    const c = planOf("kvm-docker").commands.at(-1)!;
    assert.equal(c.on, "host");
    for (const w of ["guest_address", "ssh_guest", "docker info", `docker image inspect --format '{{.Id}}' ${tools}`, "/var/lib/virtperf/tools-image.id", "docker rm --force", "docker run --detach"]) assert.ok(c.create.includes(w), w);
    assert.ok(!c.create.includes("docker load"), "the image was loaded when the guest image was built");
    assert.match(c.delete!, /virsh domstate "\$dom"[^\n]*running \] \|\| exit 0/);
    assert.match(c.delete!, /docker rm --force --volumes virtperf-citest-kvm-docker/);
  });

  it("the environment description is a valid one, naming the stack's guest alone and container alone as references", () => {
    const p = planStack(x, { ...host, kvm: KVM_NOT_USABLE });
    for (const name of ["kvm-docker", "kvm-tuned-docker-host-volume"]) {
      const env = p.environments.find((e) => e.def.name === name)!;
      const d = environmentDescription(x, env);
      assert.equal(environmentProblem(JSON.parse(JSON.stringify(d))), undefined);
      assert.equal(d.kind, "kvm-docker");
    }
    assert.deepEqual(p.environments.find((e) => e.def.name === "kvm-docker")!.references, ["kvm", "docker"]);
    assert.deepEqual(p.environments.find((e) => e.def.name === "kvm-tuned-docker-host-volume")!.references, ["kvm-tuned", "docker-host-volume"]);
    assert.equal(environmentProblem({ ...environmentDescription(x, p.environments.find((e) => e.def.name === "kvm-docker")!), acceleration: "none" }),
      "a kvm-docker environment runs with acceleration kvm or tcg, not none");
  });

  it("references: only environments the stack lists, never an A/A copy, never one whose options differ", () => {
    const y = parseExperiment({ environments: ["kvm-tuned", "docker-host", { name: "kd", preset: "kvm-docker" }, "kvm"], calibration: ["kvm"] }, "citest", host);
    assert.deepEqual(kvmDockerReferences(y, y.environments.find((e) => e.name === "kd")!), ["kvm"]);
    const z = parseExperiment({ environments: [{ name: "g", preset: "kvm", pinning: true }, "kvm-docker"] }, "citest", host);
    assert.deepEqual(kvmDockerReferences(z, z.environments.find((e) => e.name === "kvm-docker")!), []);
  });

  it("refuses a stack memory that leaves the container less than 256 MiB, a user guest image, and another kind", () => {
    const small = parseExperiment({ environments: ["kvm-docker"], memoryMiB: 600 }, "citest", host);
    assert.throws(() => planKvmDocker(small, small.environments[0]!, 0, tcg, tools), (e: unknown) => e instanceof ConfigError && e.propertyPath === "virtperf:memoryMiB" && /at least 640 MiB/.test(e.message));
    const user = parseExperiment({ environments: ["kvm-docker"], guestImage: "/img/cloud.qcow2" }, "citest", host);
    assert.throws(() => planKvmDocker(user, user.environments[0]!, 0, tcg, tools), (e: unknown) => e instanceof ConfigError && e.propertyPath === "virtperf:guestImage");
    assert.throws(() => planKvmDocker(x, envOf("kvm"), 0, tcg, tools), ProvisionError);
  });

  it("every script is valid bash", () => {
    const plans = [planOf("kvm-docker"), planOf("kvm-tuned-docker-host-volume", 6, { kvm: KVM_PROVEN, threadsPerCore: 1 })];
    const scripts = [...plans.flatMap((p) => [p.facts, ...p.commands.flatMap((c) => [c.create, c.delete ?? ""])]), planGuestDockerImage(x, tools).create];
    for (const s of scripts) {
      const r = spawnSync("bash", ["-n"], { input: s, encoding: "utf8" });
      assert.equal(r.status, 0, `${r.stderr}\n${s.slice(0, 300)}`);
    }
  });
});

describe("the guest image with Docker", () => {
  it("is its own image, after the tools image; the base guest image's inputs and hash stay as they were", () => {
    const img = guestDockerImage(x, tools);
    assert.notEqual(img.base, guestImage(x).base);
    assert.match(img.base, /^\/scratch\/images\/guest-docker-[0-9a-f]{16}\.img$/);
    // The base image of stacks/kvm: its build script and packages are what every cached base image was built from.
    const dev = parseExperiment({ environments: ["kvm"], scratchDir: "/var/lib/virtperf" }, "dev", { cpus: [0, 1], memoryMiB: 24000 });
    assert.equal(guestImage(dev).hash, "9ae5507357660be8", "the base guest image's hash changed: every cached base image would be rebuilt");
    assert.ok(guestDockerPackages().includes("docker.io"));
    assert.ok(!planGuestImage(x).create.includes("docker.io"));
    const p = planStack(x, { ...host, kvm: KVM_NOT_USABLE });
    const ids = p.images.map((i) => i.id);
    assert.ok(ids.indexOf("docker-tools") < ids.indexOf(GUEST_DOCKER_IMAGE));
    assert.deepEqual(p.images.find((i) => i.id === GUEST_DOCKER_IMAGE)!.after, ["docker-tools"]);
  });

  it("its hash covers the tools image's tag; its build saves that image from the host's daemon and rebuilds when the host's id changed", () => {
    assert.notEqual(guestDockerImage(x, "virtperf/tools:aaaaaaaaaaaa").hash, guestDockerImage(x, "virtperf/tools:bbbbbbbbbbbb").hash);
    const c = planGuestDockerImage(x, tools).create;
    for (const w of [`TOOLS_TAG=${tools}`, "docker.io", "apparmor", 'docker save --output "$root/var/lib/virtperf/tools-image.tar" "$TOOLS_TAG"',
      `"userland-proxy": false`, "systemctl --root=\"$root\" enable containerd.service docker.service", '"$OUT.tools-id"', "rebuilding", "flock 9",
      // One offline boot of the written disk loads it into the guest's dockerd, and must say so on its console.
      "qemu-system-x86_64 -accel tcg", "-nic none", "systemd.unit=virtperf-preload.target", "docker load --quiet --input /var/lib/virtperf/tools-image.tar",
      "virtperf-preload: ok", "rm -f /var/lib/virtperf/tools-image.tar", ": >/etc/machine-id"]) assert.ok(c.includes(w), w);
    // The boot comes after the disk is written and before it becomes the image.
    assert.ok(c.indexOf("mkfs.ext4") < c.indexOf("qemu-system-x86_64") && c.indexOf("qemu-system-x86_64") < c.indexOf('mv "$tmp/disk.img" "$OUT"'));
  });

  it("a stack whose only guests are containers' still builds the tools image first", () => {
    const y = parseExperiment({ environments: ["kvm-docker"] }, "citest", host);
    assert.deepEqual(planStack(y, { ...host, kvm: KVM_NOT_USABLE }).images.map((i) => i.id), ["docker-tools", GUEST_DOCKER_IMAGE]);
  });
});

describe("kvm-docker pre-flight", () => {
  it("shares the guests' observations: libvirt, hugepages (all tuned guests at once) and the KVM proof run once", () => {
    const script = observationScript(x);
    const count = (re: RegExp) => script.split("\n").filter((l) => re.test(l)).length;
    assert.equal(count(/^obs_libvirt$/), 1);
    assert.equal(count(/ kvm_proof$/), 1);
    assert.deepEqual(script.split("\n").filter((l) => l.startsWith("obs_hugepages ")), [`obs_hugepages ${2 * 2048}`]);
    assert.equal(count(/^obs_docker$/), 1);
    assert.equal(count(/^obs_hugepages\(\) \{$/), 1, "a library two kinds use is sent once");
    assert.match(script, /obs_file guestDockerImage \/scratch\/images\/guest-docker-/);
  });

  it("alike checks of kvm and kvm-docker are one row for both; memory held counts every guest", () => {
    const o = parseObservations("libvirt.version=libvirtd 9.0.0\nlibvirt.network=no\ndocker.server=20.10.24\ndocker.driver=overlay2\ndocker.cgroup=2\n");
    const checks = evaluate(x, o);
    const net = checks.filter((c) => c.id === "libvirt-network");
    assert.equal(net.length, 1);
    assert.deepEqual([...net[0]!.for].sort(), ["kvm", "kvm-docker", "kvm-tuned", "kvm-tuned-docker-host-volume"]);
    assert.equal(checks.filter((c) => c.id === "docker-daemon").length, 1);
    assert.equal(heldMemory(x).mib, 4 * 2048);
  });

  it("tools cover the guest's and the tools image's; disk counts the image build and each guest's disk with the tools image loaded", () => {
    const p = kindModule("kvm-docker").preflight;
    for (const t of ["virsh", "qemu-img", "mmdebstrap", "docker", "jq"]) assert.ok(p.tools.some((n) => n.command === t), t);
    const needs = p.disk!(x, parseObservations(""), x.environments.filter((e) => e.options.kind === "kvm-docker"), 0);
    assert.ok(needs.some((n) => n.what === "guest image with Docker"));
    assert.equal(needs.filter((n) => /disk/.test(n.what)).length, 2);
    assert.ok(!needs.some((n) => n.label === "dockerRoot"), "the docker kind counts the tools image when the stack has one");
  });
});
