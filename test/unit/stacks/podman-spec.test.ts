/**
 * The podman kind, pure parts: its plan (Docker's default container, run as the user; the target's wrap;
 * the image after Docker's), `podman run` in each limits mode, its references, its options, every script
 * bash can parse, and its pre-flight checks from this machine's observations with one fact changed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { PRESETS, kindModule } from "../../../stacks/kinds.ts";
import type { EnvironmentDef, Experiment } from "../../../stacks/experiment.ts";
import { parseExperiment } from "../../../stacks/config.ts";
import { plan } from "../../../stacks/planner.ts";
import { containerSpec, planDockerImage } from "../../../stacks/docker/spec.ts";
import { DOCKER_PRESETS } from "../../../stacks/docker/options.ts";
import { nativeWrap } from "../../../stacks/native/spec.ts";
import { planPodman, podmanAs, renderPodmanRun, type PodmanSpec } from "../../../stacks/podman/spec.ts";
import { evaluate, parseObservations, type Check } from "../../../stacks/preflight/checks.ts";
import { allPackages } from "../../../workloads/registry.ts";
import { TRIAL_ENV } from "../../../workloads/runner/parity.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { KVM_NOT_USABLE } from "../../helpers/kvm-proofs.ts";
import { experiment } from "../../helpers/experiments.ts";

const def = (name: string, options: EnvironmentDef["options"] = PRESETS["podman-rootless"]): EnvironmentDef => ({ name, options });
const TAG = "virtperf/tools:0123456789ab";
const bashParses = (script: string) => execFileSync("bash", ["-n"], { input: script });

describe("planPodman: Docker's default container, run by rootless Podman as its user", () => {
  const x = experiment();
  const p = planPodman(x, def("podman-rootless"), 2, TAG);
  const s = p.spec;

  it("the container is docker's default spec (bridge ports published 1:1 on 127.0.0.1, overlay, CPU set, memory, /dev/shm, init), from the user's copy of the image", () => {
    assert.deepEqual(s.container, containerSpec(x, def("podman-rootless", DOCKER_PRESETS.docker), 2, `localhost/${TAG}`));
    assert.equal(s.container.name, "virtperf-t1-podman-rootless");
    assert.equal(s.image, `localhost/${TAG}`);
    assert.equal(s.sourceImage, TAG);
    assert.deepEqual(p.ports, [21020, 21021, 21022, 21023]);
    assert.equal(s.container.volume, undefined);
    assert.deepEqual([s.user, s.home, s.runtime, s.network], ["virtperf-podman", "/var/lib/virtperf-podman", "runc", "slirp4netns"]);
    assert.deepEqual([p.dataDir, p.workRoot, p.acceleration], ["/data", "/work", "none"]);
  });

  it("the target: podman exec as the user, after native's wrapper (join the recorded groups, taskset)", () => {
    assert.deepEqual(p.target, {
      kind: "docker", container: s.container.name, engine: "podman", user: "virtperf-podman",
      wrap: nativeWrap(x, { stateFile: "/s/podman/t1-podman-rootless.cgroup" }, "virtperf-podman"),
    });
    const ssh = planPodman(experiment({ host: { ...x.host, address: { kind: "ssh", host: "bench", user: "u", port: 22, privateKeyFile: "/k", keyFromSecret: false, hostPublicKey: "ssh-ed25519 AAAA", knownHostsFile: "/k.kh" } } }), def("podman-rootless"), 2, TAG);
    assert.equal(ssh.target.kind === "docker" ? ssh.target.via?.kind ?? "ssh" : "", "ssh");
  });

  it("commands: limits, then the container; every script (and the facts) parses as bash", () => {
    assert.deepEqual(p.commands.map((c) => c.role), ["podman-limits", "podman-container"]);
    for (const c of p.commands) { bashParses(c.create); bashParses(c.delete!); }
    bashParses(p.facts);
    assert.match(p.commands[1]!.delete!, /podman rm --force --time 0 --volumes virtperf-t1-podman-rootless/);
  });

  it("podman run: Podman's flags for the limits only where it can set them (mode podman)", () => {
    const base = renderPodmanRun(s, "cgroup1");
    assert.deepEqual(base.slice(0, 10), [...podmanAs("virtperf-podman")]);
    assert.deepEqual(base.slice(10, 14), ["run", "--detach", "--name", s.container.name]);
    for (const w of ["--init", "slirp4netns", "runc", "127.0.0.1:21020:21020/tcp", "127.0.0.1:21023:21023/udp", `${s.container.shmBytes}b`]) assert.ok(base.includes(w), w);
    assert.deepEqual(base.slice(-3), [`localhost/${TAG}`, "sleep", "infinity"]);
    assert.deepEqual(renderPodmanRun(s, "taskset"), base);
    const limited = renderPodmanRun(s, "podman");
    assert.deepEqual(limited.filter((w) => !base.includes(w)), ["--cpuset-cpus", "0-1", "--memory", `${1536 * 2 ** 20}b`, "--memory-swap", `${1536 * 2 ** 20}b`, "--pids-limit", "-1"]);
  });

  it("podmanAs: every podman call as the user, with a declared environment", () => {
    assert.deepEqual(podmanAs("u"), ["env", "-i", "-C", "/", `PATH=${TRIAL_ENV.PATH}`, "runuser", "-u", "u", "--", "podman"]);
  });
});

describe("the podman module: images after Docker's, references, options", () => {
  const probe = { cpus: [0, 1], memoryMiB: 24000, kvm: KVM_NOT_USABLE };
  const xOf = (environments: unknown[]) => parseExperiment({ memoryMiB: 1024, profile: "smoke", workloads: ["xz"], environments }, "dev", probe);

  it("images: Docker's tools image, then each user's copy of it (once per user)", () => {
    const x = xOf(["podman-rootless", { name: "p2", preset: "podman-rootless" }, { name: "p3", preset: "podman-rootless", user: "bench" }]);
    const p = plan(x, probe);
    assert.deepEqual(p.images.map((i) => [i.id, i.after ?? []]), [["docker-tools", []], ["podman-tools-virtperf-podman", ["docker-tools"]], ["podman-tools-bench", ["docker-tools"]]]);
    const load = p.images[1]!.commands[1]!.create;
    assert.ok(load.includes(`docker save ${planDockerImage(x, allPackages()).tag} |`));
    for (const i of p.images.slice(1)) for (const c of i.commands) bashParses(c.create);
  });

  const refs: [string, unknown[], string[]][] = [
    ["docker beside it", ["native", "docker", "podman-rootless"], ["docker"]],
    ["no docker environment", ["native", "podman-rootless"], []],
    ["only docker-host (another network)", ["docker-host", "podman-rootless"], []],
    ["a custom environment with Docker's defaults", [{ name: "rootful", preset: "docker" }, "podman-rootless"], ["rootful"]],
    ["docker and its A/A copy: docker", [{ name: "docker-aa", preset: "docker" }, "docker", "podman-rootless"], ["docker"]],
  ];
  for (const [what, environments, want] of refs) {
    it(`references: ${what}`, () => {
      const x = xOf(environments);
      const e = x.environments.find((d) => d.name === "podman-rootless")!;
      assert.deepEqual(kindModule("podman").references!(x, e), want);
    });
  }

  it("options: another user, crun; root is refused, naming the key", () => {
    const x = xOf([{ name: "pc", preset: "podman-rootless", user: "bench", runtime: "crun" }]);
    assert.deepEqual(x.environments[0]!.options, { kind: "podman", user: "bench", runtime: "crun" });
    assert.throws(() => xOf([{ name: "pr", preset: "podman-rootless", user: "root" }]), (e: unknown) => e instanceof ConfigError && /user/.test(e.propertyPath ?? ""));
  });
});

describe("podman pre-flight from this machine's observations, one fact changed per case", () => {
  const REAL = ["observations-dev-2cpu-no-vmx.txt", "observations-podman-rootless.txt"]
    .map((f) => readFileSync(new URL(`../../fixtures/host/${f}`, import.meta.url), "utf8")).join("\n");
  const x = parseExperiment({ memoryMiB: 1024, profile: "smoke", workloads: ["xz"], environments: ["podman-rootless"] }, "dev", { cpus: [0, 1], memoryMiB: 24105 });
  const crun = parseExperiment({ memoryMiB: 1024, profile: "smoke", workloads: ["xz"], environments: [{ name: "pc", preset: "podman-rootless", runtime: "crun" }] }, "dev", { cpus: [0, 1], memoryMiB: 24105 });
  const check = (id: string, extra = "", xx: Experiment = x): Check | undefined => evaluate(xx, parseObservations(`${REAL}\n${extra}`)).find((c) => c.id === id);

  it("this machine: every check passes but the limits, a warning that says how they are applied instead", () => {
    const checks = evaluate(x, parseObservations(REAL)).filter((c) => c.for.includes("podman-rootless"));
    assert.deepEqual(checks.filter((c) => c.status !== "ok").map((c) => [c.id, c.status]), [["podman-limits", "warn"]]);
    assert.match(check("podman-limits")!.detail, /cgroup v1: rootless Podman ignores --cpuset-cpus and --memory; its container and every podman exec join host cgroup v1 groups/);
    assert.ok(checks.some((c) => c.id === "tools:podman"));
    assert.equal(check("podman-runtime:runc")?.status, "ok");
  });

  const cases: [string, string, string, Check["status"], RegExp][] = [
    ["the user does not exist yet", "podman.user.virtperf-podman=absent", "podman-user:virtperf-podman", "ok", /the bring-up creates it/],
    ["the user is uid 0", "podman.user.virtperf-podman=uid 0 home /root", "podman-user:virtperf-podman", "fail", /uid 0/],
    ["too few subordinate uids", "podman.subuid.virtperf-podman=100000:1000 ", "podman-user:virtperf-podman", "fail", /at least 65536/],
    ["no subordinate ids yet", "podman.subuid.virtperf-podman=\npodman.subgid.virtperf-podman=", "podman-user:virtperf-podman", "ok", /the bring-up adds 65536/],
    ["podman info fails as the user", "podman.down.virtperf-podman=Error: cannot set up namespace using newuidmap", "podman-info:virtperf-podman", "fail", /newuidmap/],
    ["vfs storage", "podman.info.virtperf-podman=4.3.1|true|vfs|/x|v1|cgroupfs|", "podman-info:virtperf-podman", "warn", /storage vfs/],
    ["cgroup v2 with cpuset and memory delegated", "podman.info.virtperf-podman=4.3.1|true|overlay|/x|v2|systemd|cpuset cpu io memory pids ", "podman-limits", "ok", /delegated/],
    ["cgroup v2 without cpuset", "podman.info.virtperf-podman=4.3.1|true|overlay|/x|v2|systemd|memory pids \npodman.cgroupFs=cgroup2fs", "podman-limits", "warn", /taskset only, NO memory limit/],
    ["cgroup v1 not writable", "cgroup.v1.memory=read-only", "podman-limits", "warn", /not writable: CPUs pinned with taskset only, NO memory limit/],
    ["no /dev/net/tun", "podman.tun=absent", "podman-tun", "fail", /no \/dev\/net\/tun/],
    ["no catatonit (the container's init)", "podman.catatonit=absent", "podman-init", "fail", /--init fails/],
    ["/dev/net/tun root-only", "podman.tun=600", "podman-tun", "ok", /the bring-up makes it 0666/],
    ["runc missing", "tool.runc=missing", "podman-runtime:runc", "fail", /runc: missing/],
    ["Docker down (it builds the image)", "docker.down=Cannot connect to the Docker daemon", "podman-image-source", "fail", /Cannot connect/],
  ];
  for (const [what, line, id, status, detail] of cases) {
    it(what, () => {
      const c = check(id, line);
      assert.ok(c, `no check ${id}`);
      assert.equal(c.status, status, c.detail);
      assert.match(c.detail, detail);
    });
  }

  it("crun on this hybrid host (hugetlb in cgroup2) fails, naming runc", () => {
    const c = check("podman-crun-hybrid", "tool.crun=ok crun version 1.8.1", crun)!;
    assert.equal(c.status, "fail");
    assert.match(c.detail, /hugetlb/);
    assert.match(c.fix!, /runc/);
  });

  it("disk: the image and the trial data under the user's storage", () => {
    const c = evaluate(x, parseObservations(`${REAL}\npodman.image.virtperf-podman=absent`)).find((k) => k.id.startsWith("disk:") && k.id.includes("podmanRoot"))!;
    assert.match(c.detail, /tools image in virtperf-podman's storage 1\.0 GiB/);
    assert.match(c.detail, /trial data in the container's storage/);
  });
});

describe("the spec type is what the component and the facts read", () => {
  it("PodmanSpec carries the state file the wrap reads", () => {
    const s: PodmanSpec = planPodman(experiment(), def("podman-rootless"), 0, TAG).spec;
    assert.equal(s.limits.stateFile, "/s/podman/t1-podman-rootless.cgroup");
    assert.equal(s.limits.group, "virtperf-t1-podman-rootless");
  });
});
