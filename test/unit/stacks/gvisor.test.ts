/**
 * The gvisor kind, pure part: the runtime each environment gets from the probe's real output captured
 * here (runsc 2022-12: systrap unknown, kvm hangs, its netstack refuses this kernel, ptrace with host
 * passthrough starts), explicit options the probe refutes, the plan (a Docker container with --runtime,
 * labelled, Docker's facts plus the sandbox's), its references, its pre-flight checks, and the set-up's
 * runtime registration, which must name exactly the runtimes the kind may ask for.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { parseExperiment } from "../../../stacks/config.ts";
import { evaluate, parseObservations, type Check } from "../../../stacks/preflight/checks.ts";
import { observationScript } from "../../../stacks/preflight/preflight.ts";
import { ALL_RUNTIMES, candidates, parseGvisorProbe, resolveRuntime, trimDockerError, type GvisorProbe } from "../../../stacks/gvisor/runtime.ts";
import { planGvisor } from "../../../stacks/gvisor/spec.ts";
import { gvisor } from "../../../stacks/gvisor/index.ts";
import { renderDockerRun } from "../../../stacks/docker/spec.ts";
import { dockerContainerArgs } from "../../../stacks/docker/component.ts";
import { plan, environmentDescription } from "../../../stacks/planner.ts";
import { environmentProblem } from "../../../model/environment.ts";
import { PRESETS } from "../../../stacks/kinds.ts";
import { ProvisionError } from "../../../lib/errors.ts";
import { KVM_NOT_USABLE } from "../../helpers/kvm-proofs.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/host/${name}`, import.meta.url), "utf8");
const GVISOR_OBS = fixture("observations-gvisor-runsc-20221219.txt");
const REAL = `${fixture("observations-dev-2cpu-no-vmx.txt")}\n${GVISOR_OBS}`;
const PROBE = parseGvisorProbe(parseObservations(GVISOR_OBS))!;
const host = { cpus: [0, 1], memoryMiB: 24105 };
const xOf = (environments: unknown[], extra: Record<string, unknown> = {}) => parseExperiment({ memoryMiB: 1024, profile: "smoke", environments, ...extra }, "gv", host);
const byId = (checks: readonly Check[], id: string) => checks.find((c) => c.id === id);
const options = (name: "gvisor" | "gvisor-host-volume", over: Record<string, string> = {}) => ({ ...PRESETS[name], ...over }) as typeof PRESETS["gvisor"];

describe("gVisor runtime from the probe (real output of runsc 2022-12 here)", () => {
  it("reads every registered runtime and every probe", () => {
    assert.deepEqual(Object.keys(PROBE.registered).filter((n) => n.startsWith("runsc-")).sort(), ALL_RUNTIMES.map((r) => r.name).sort());
    assert.deepEqual(PROBE.results["runsc-ptrace-host@bridge"], { status: "ok", detail: "0.5 s", missing: ["/proc/sys/net/ipv4/tcp_adv_win_scale", "/sys/devices/system/cpu/cpu0/topology/core_id"] });
    assert.equal(PROBE.results["runsc-kvm-gvisor@bridge"]!.status, "timeout");
    assert.equal(PROBE.results["runsc-systrap-gvisor@bridge"]!.detail, "unknown platform: systrap");
    assert.equal(PROBE.results["runsc-kvm-host@host"]!.status, "skipped");
  });

  it("gvisor (bridge): auto resolves to ptrace with host passthrough, a netstack fallback, and says why", () => {
    const r = resolveRuntime(options("gvisor"), PROBE);
    assert.deepEqual([r.runtime, r.platform, r.netstack, r.netstackFellBack], ["runsc-ptrace-host", "ptrace", "host", true]);
    assert.equal(r.label, "runsc ptrace, host network passthrough");
    assert.deepEqual(r.args, ["--platform=ptrace", "--network=host"]);
    for (const said of [/systrap: unknown platform/, /kvm: no container started within 12 s/, /ptrace \+ gVisor netstack: .*root network namespace/, /runsc-ptrace-host started a container in 0.5 s/]) assert.match(r.reason, said);
  });

  it("gvisor-host-volume (host network): host passthrough is the only candidate, not a fallback", () => {
    assert.deepEqual(candidates(options("gvisor-host-volume")).netstacks, ["host"]);
    const r = resolveRuntime(options("gvisor-host-volume"), PROBE);
    assert.deepEqual([r.runtime, r.netstackFellBack], ["runsc-ptrace-host", false]);
    assert.match(r.reason, /Docker host network: .*host passthrough/);
  });

  const refuted: [string, Record<string, string>, RegExp, RegExp][] = [
    ["platform kvm, which never starts here", { platform: "kvm" }, /kvm: no container started within 12 s/, /\/dev\/kvm/],
    ["netstack gvisor, which this kernel defeats", { netstack: "gvisor" }, /root network namespace/, /netstack: host/],
    ["platform systrap, unknown to this runsc", { platform: "systrap", netstack: "host" }, /unknown platform/, /platform: ptrace/],
  ];
  for (const [what, over, message, fix] of refuted) {
    it(`explicit ${what}: refused with the probe's words and the fix`, () => {
      assert.throws(() => resolveRuntime(options("gvisor", over), PROBE), (e: unknown) =>
        e instanceof ProvisionError && message.test(e.shortMessage) && e.suggestions.some((s) => fix.test(s)));
    });
  }

  it("an explicit runtime the probe started is taken as requested", () => {
    const r = resolveRuntime(options("gvisor", { platform: "ptrace", netstack: "host" }), PROBE);
    assert.match(r.reason, /^requested \(platform ptrace, netstack host\); runsc-ptrace-host started/);
  });

  it("without a probe (a preview): the most portable choice, said so", () => {
    const r = resolveRuntime(options("gvisor"), undefined);
    assert.equal(r.runtime, "runsc-ptrace-host");
    assert.match(r.reason, /^not probed/);
  });

  it("an unregistered runtime's fix is the set-up", () => {
    const probe: GvisorProbe = { registered: {}, results: { "runsc-ptrace-host@bridge": { status: "fail", detail: trimDockerError("docker: Error response from daemon: Unknown runtime specified runsc-ptrace-host") } } };
    assert.throws(() => resolveRuntime(options("gvisor", { platform: "ptrace", netstack: "host" }), probe), (e: unknown) =>
      e instanceof ProvisionError && e.suggestions.some((s) => /scripts\/services.sh docker/.test(s)));
  });

  it("docker's wrapping of runsc's error is trimmed to runsc's words", () => {
    assert.equal(trimDockerError("docker: Error response from daemon: failed to create shim task: OCI runtime create failed: unknown platform: systrap: unknown.\n\nRun 'docker run --help' for more information"), "unknown platform: systrap");
  });
});

describe("planGvisor: a Docker container run by runsc", () => {
  const x = xOf(["native", "docker", "docker-host-volume", "gvisor", "gvisor-host-volume"]);
  const tag = "virtperf/tools:abc";
  const p = planGvisor(x, x.environments[3]!, 3, tag, PROBE);

  it("its container spec is Docker's with the runtime; docker run and docker.Container both carry it", () => {
    assert.equal(p.kind, "gvisor");
    assert.equal(p.spec.runtime, "runsc-ptrace-host");
    assert.equal(p.spec.networkMode, "bridge");
    assert.equal(p.spec.ports.length, 8);
    const argv = renderDockerRun(p.spec);
    assert.deepEqual(argv.slice(argv.indexOf("--runtime"), argv.indexOf("--runtime") + 2), ["--runtime", "runsc-ptrace-host"]);
    assert.equal(dockerContainerArgs(p.spec).runtime, "runsc-ptrace-host");
    assert.deepEqual(p.target, { kind: "docker", container: "virtperf-gv-gvisor" });
  });

  it("is labelled, and its facts are Docker's with the sandbox's", () => {
    assert.equal(p.isolation, "runsc ptrace, host network passthrough");
    assert.match(p.isolationReason!, /^probed: /);
    assert.match(p.facts, /"kind":"gvisor"/);
    assert.match(p.facts, /"gvisor":%s/);
    assert.match(p.facts, /oflag=direct/);
  });

  it("a volume environment makes its volume's directory first", () => {
    const v = planGvisor(x, x.environments[4]!, 4, tag, PROBE);
    assert.equal(v.spec.volume?.hostDir.endsWith("/docker-volumes/gv-gvisor-host-volume"), true);
    assert.deepEqual(v.commands.map((c) => c.role), ["volume-dir"]);
    assert.equal(v.spec.networkMode, "host");
  });

  it("references: the same container on runc, when the stack has it (never an A/A copy)", () => {
    assert.deepEqual(gvisor.references(x, x.environments[3]!), ["docker"]);
    assert.deepEqual(gvisor.references(x, x.environments[4]!), ["docker-host-volume"]);
    const y = xOf(["native", "docker", "gvisor"], { calibration: ["docker"] });
    assert.deepEqual(gvisor.references(y, y.environments[2]!), ["docker"]);
    const z = xOf(["native", "gvisor"]);
    assert.deepEqual(gvisor.references(z, z.environments[1]!), []);
  });

  it("the planner carries label, reason and references into the trial's description", () => {
    const y = xOf(["native", "docker", "gvisor"], { workloads: ["xz"] });
    const planned = plan(y, { ...host, kvm: KVM_NOT_USABLE, gvisor: PROBE });
    const env = planned.environments.find((e) => e.def.name === "gvisor")!;
    const d = environmentDescription(y, env);
    assert.equal(environmentProblem(d), undefined);
    assert.deepEqual([d.kind, d.isolation, d.references], ["gvisor", "runsc ptrace, host network passthrough", ["docker"]]);
    // One tools image for both kinds.
    assert.deepEqual(planned.images.map((i) => i.id), ["docker-tools"]);
  });

  it("workloads whose tools cannot run where the probe found files missing are left out of the schedule with why", () => {
    const y = xOf(["native", "docker", "gvisor"], { workloads: ["xz", "nuttcp", "linpack"] });
    const planned = plan(y, { ...host, kvm: KVM_NOT_USABLE, gvisor: PROBE });
    assert.deepEqual(planned.notMeasured.map((n) => [n.environment, n.workload]), [["gvisor", "nuttcp"], ["gvisor", "linpack"]]);
    const withRr = plan(xOf(["native", "gvisor"], { workloads: ["rr"] }), { ...host, kvm: KVM_NOT_USABLE, gvisor: PROBE });
    assert.match(withRr.notMeasured.find((n) => n.workload === "rr")!.reason, /recvfrom\(\) on a TCP socket fails with EINVAL/);
    assert.match(planned.notMeasured[0]!.reason, /tcp_adv_win_scale is missing in this sandbox .*nuttcp 6\.1\.2's server dies/);
    assert.match(planned.notMeasured[1]!.reason, /core_id cannot be read in this sandbox .*Open MPI finds no CPU topology/);
    const pairs = new Set(planned.schedule.entries.map((e) => `${e.environment}/${e.workload}`));
    assert.deepEqual([...pairs].sort(), ["docker/linpack", "docker/nuttcp", "docker/xz", "gvisor/xz", "native/linpack", "native/nuttcp", "native/xz"]);
    assert.equal(planned.trials.length, planned.schedule.entries.length);
    // A sandbox that has the files runs them like any other environment.
    const withFiles = parseGvisorProbe(parseObservations(GVISOR_OBS.replace(/ missing=\S+/g, "")))!;
    const all = plan(y, { ...host, kvm: KVM_NOT_USABLE, gvisor: withFiles });
    assert.deepEqual(all.notMeasured, []);
    assert.ok(all.schedule.entries.some((e) => e.environment === "gvisor" && e.workload === "nuttcp"));
  });
});

describe("gVisor pre-flight", () => {
  const x = xOf(["native", "gvisor", "gvisor-host-volume"]);

  it("observes runsc, the runtimes and probes each distinct network once", () => {
    const script = observationScript(x);
    assert.match(script, /obs_tool runsc 'runsc --version'/);
    assert.match(script, /^obs_gvisor_runtimes$/m);
    assert.match(script, /^gvisor_probe_env bridge 'systrap kvm ptrace' 'gvisor host'$/m);
    assert.match(script, /^gvisor_probe_env host 'systrap kvm ptrace' host$/m);
    assert.match(script, /^gvisor_probe_end$/m);
  });

  it("this machine: runtimes registered, each environment's runtime named, the netstack fallback warned", () => {
    const checks = evaluate(x, parseObservations(REAL));
    assert.equal(byId(checks, "gvisor-runtimes:gvisor")?.status, "ok");
    const bridge = byId(checks, "gvisor-runtime:gvisor")!;
    assert.equal(bridge.status, "warn");
    assert.match(bridge.detail, /^runsc-ptrace-host \(runsc ptrace, host network passthrough\)/);
    assert.equal(byId(checks, "gvisor-runtime:gvisor-host-volume")?.status, "ok");
    assert.equal(byId(checks, "tools:gvisor")?.status, "ok");
  });

  it("runtimes not registered: fails naming the environment, with the set-up as the fix", () => {
    const o = parseObservations(REAL.split("\n").filter((l) => !l.startsWith("gvisor.runtime.runsc")).join("\n"));
    const c = byId(evaluate(x, o), "gvisor-runtimes:gvisor")!;
    assert.equal(c.status, "fail");
    assert.deepEqual(c.for, ["gvisor"]);
    assert.match(c.fix!, /scripts\/services.sh docker/);
  });

  it("runsc missing: the tools check fails with its package", () => {
    const c = byId(evaluate(x, parseObservations(`${REAL}\ntool.runsc=missing\n`)), "tools:gvisor")!;
    assert.equal(c.status, "fail");
    assert.match(c.fix!, /apt-get install runsc/);
  });

  it("no runtime starts: fails naming the environment and what each candidate did", () => {
    const o = parseObservations(REAL.replace(/runsc-ptrace-host\.bridge=ok .*/, "runsc-ptrace-host.bridge=fail docker: Error response from daemon: OCI runtime create failed: ptrace: operation not permitted: unknown"));
    const c = byId(evaluate(x, o), "gvisor-runtime:gvisor")!;
    assert.equal(c.status, "fail");
    assert.match(c.detail, /ptrace \+ host network passthrough: ptrace: operation not permitted/);
  });

  it("the probe did not run: fails", () => {
    const o = parseObservations(REAL.split("\n").filter((l) => !l.startsWith("gvisor.")).join("\n"));
    assert.equal(byId(evaluate(x, o), "gvisor-runtime:gvisor")?.status, "fail");
  });
});

describe("scripts/services.sh registers exactly the runtimes the kind may ask for", () => {
  it("runsc-<platform>-<netstack> with runsc's flags, other keys and runtimes kept", () => {
    const dir = mkdtempSync(join(tmpdir(), "virtperf-gvrt-"));
    // A stand-in runsc on PATH: registration only needs its path.
    writeFileSync(join(dir, "runsc"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(dir, "runsc"), 0o755);
    const file = join(dir, "daemon.json");
    writeFileSync(file, JSON.stringify({ "log-level": "warn", runtimes: { mine: { path: "/opt/mine" } } }));
    const env = { ...process.env, PATH: `${dir}:${process.env["PATH"]}`, VIRTPERF_DOCKER_DAEMON_JSON: file };
    execFileSync("bash", ["scripts/services.sh", "runtimes"], { env, stdio: "pipe" });
    const json = JSON.parse(readFileSync(file, "utf8")) as { "log-level": string; runtimes: Record<string, { path: string; runtimeArgs?: string[] }> };
    assert.equal(json["log-level"], "warn");
    assert.equal(json.runtimes["mine"]!.path, "/opt/mine");
    const ours = Object.fromEntries(Object.entries(json.runtimes).filter(([n]) => n.startsWith("runsc-")));
    assert.deepEqual(ours, Object.fromEntries(ALL_RUNTIMES.map((r) => [r.name, { path: join(dir, "runsc"), runtimeArgs: r.args }])));
    // Run again: nothing changes, nothing is said to have started.
    const again = execFileSync("bash", ["scripts/services.sh", "runtimes"], { env, stdio: "pipe" }).toString();
    assert.match(again, /all running already/);
  });
});
