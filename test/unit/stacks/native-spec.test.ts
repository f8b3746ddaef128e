import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { PRESETS } from "../../../stacks/kinds.ts";
import type { Experiment } from "../../../stacks/experiment.ts";
import { planNative } from "../../../stacks/native/spec.ts";
import { experiment as experimentOf } from "../../helpers/experiments.ts";
import { BASH_JSON_STRING } from "../../../lib/shell.ts";
import { parseFacts } from "../../../model/facts.ts";

/** One CPU, 1024 MiB: the host the native plan is sized for here. */
const experiment = (over: Partial<Experiment> = {}): Experiment => experimentOf({ host: { address: { kind: "local" }, cpuset: "1", cpus: 1, memoryMiB: 1024, scratchDir: "/s", ioDir: "/io" }, ...over });
const native = { name: "native", options: PRESETS.native };

describe("planNative", () => {
  it("prepares packages, directories and the cgroup, in that order", () => {
    const p = planNative(experiment(), native, ["fio", "xz-utils"]);
    assert.deepEqual(p.commands.map((c) => [c.role, c.on]), [["host-packages", "host"], ["host-dirs", "host"], ["native-cgroup", "host"]]);
    assert.match(p.commands[0]!.create, /for p in fio xz-utils; do/);
    assert.equal(p.commands[1]!.create, "mkdir -p /s /io /io/t1-native /s/work/t1-native");
    assert.equal(p.commands[1]!.delete, "rm -rf /io/t1-native /s/work/t1-native");
    assert.match(p.commands[2]!.create, /g=virtperf-t1-native; cpus=1; mem=1073741824; state=\/s\/native\/t1-native\.cgroup/);
    assert.equal(p.dataDir, "/io/t1-native");
    assert.equal(p.workRoot, "/s/work/t1-native");
    assert.deepEqual(p.ports, []);
    assert.deepEqual(p.shape, { cpus: 1, memoryMiB: 1024 });
  });

  it("skips the package step when no packages are given", () => {
    assert.deepEqual(planNative(experiment(), native, []).commands.map((c) => c.role), ["host-dirs", "native-cgroup"]);
  });

  it("local target: the wrapper joins the recorded cgroups and pins the CPU set with taskset", () => {
    const t = planNative(experiment({ host: { ...experiment().host, cpuset: "0,2-3" } }), native, []).target;
    assert.equal(t.kind, "local");
    const wrap = t.kind === "local" ? t.wrap! : [];
    assert.equal(wrap[0], "bash");
    assert.equal(wrap[1], "-c");
    assert.match(wrap[2]!, /f=\/s\/native\/t1-native\.cgroup;.*exec taskset -c 0,2-3 "\$@"$/);
  });

  it("the wrapper really runs its command under taskset (no state file: taskset only)", () => {
    const cpus = execFileSync("bash", ["-c", "taskset -cp $$ | sed 's/.*: //'"], { encoding: "utf8" }).trim();
    const first = cpus.split(/[,-]/)[0]!;
    const x = experiment({ host: { ...experiment().host, cpuset: first, scratchDir: "/nonexistent-virtperf" } });
    const t = planNative(x, native, []).target;
    const wrap = t.kind === "local" ? t.wrap! : [];
    const out = execFileSync(wrap[0]!, [...wrap.slice(1), "bash", "-s"], { input: "grep Cpus_allowed_list /proc/self/status", encoding: "utf8" });
    assert.match(out, new RegExp(`Cpus_allowed_list:\\s+${first}\\n`));
  });

  it("ssh host: an ssh target with the key file, the pinned host key and the same wrapper as locally", () => {
    const x = experiment({
      host: { ...experiment().host, address: { kind: "ssh", host: "srv", user: "bench", port: 2222, privateKeyFile: "/k", keyFromSecret: false, hostPublicKey: "ssh-ed25519 AAA", knownHostsFile: "/k.known_hosts" } },
    });
    const t = planNative(experiment(), native, []).target;
    const wrap = t.kind === "local" ? t.wrap : undefined;
    assert.ok(wrap?.length);
    assert.deepEqual(planNative(x, native, []).target, { kind: "ssh", host: "srv", user: "bench", port: 2222, identityFile: "/k", knownHostsFile: "/k.known_hosts", wrap });
  });

  it("refuses a non-native environment", () => {
    assert.throws(() => planNative(experiment(), { name: "docker", options: PRESETS.docker }, []), /not native/);
  });
});

describe("host facts script (runs here, for real)", () => {
  it("prints one JSON object with CPU, NUMA, kernel, kvm, memory and the limits native got", () => {
    const first = execFileSync("bash", ["-c", "taskset -cp $$ | sed 's/.*: //'"], { encoding: "utf8" }).trim().split(/[,-]/)[0]!;
    const x = experiment({ host: { ...experiment().host, cpuset: first, scratchDir: "/nonexistent-virtperf" } });
    const facts = JSON.parse(execFileSync("bash", ["-c", planNative(x, native, []).facts], { encoding: "utf8" }));
    assert.equal(facts.kind, "native");
    assert.equal(parseFacts("native", facts).problem, undefined, "the facts script's output fits the native facts schema (model/facts.ts)");
    assert.equal(facts.kernel, execFileSync("uname", ["-r"], { encoding: "utf8" }).trim());
    assert.ok(facts.cpuModel.length > 0);
    assert.ok(Number.isInteger(facts.sockets) && facts.sockets >= 1);
    assert.ok(Array.isArray(facts.numa));
    assert.equal(typeof facts.devKvmPresent, "boolean");
    assert.ok(facts.memoryMiB > 0);
    assert.ok(Array.isArray(facts.lscpu.lscpu));
    // No state file: no mode recorded, and the probe shows taskset's pinning.
    assert.equal(facts.limits.mode, null);
    assert.equal(facts.limits.probe.cpusAllowed, first);
  });
});

describe("BASH_JSON_STRING", () => {
  const cases = ['plain', 'quote " and back\\slash', "tab\there", "two\nlines", ""];
  for (const value of cases) {
    it(`escapes ${JSON.stringify(value)}`, () => {
      const out = execFileSync("bash", ["-c", `${BASH_JSON_STRING}\njs "$1"`, "x", value], { encoding: "utf8" });
      assert.equal(JSON.parse(out), value);
    });
  }
});

describe("native preparation for real: the cgroup, the wrapper and what native really got", () => {
  it("creates the group, the wrapper lands in it, facts report it, delete removes it", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const scratch = await mkdtemp(join(tmpdir(), "virtperf-native-citest-"));
    const first = execFileSync("bash", ["-c", "taskset -cp $$ | sed 's/.*: //'"], { encoding: "utf8" }).trim().split(/[,-]/)[0]!;
    const x = experiment({ stack: "citest", host: { ...experiment().host, cpuset: first, memoryMiB: 768, scratchDir: scratch, ioDir: join(scratch, "io") } });
    const p = planNative(x, native, []);
    try {
      for (const c of p.commands) execFileSync("bash", ["-c", c.create], { encoding: "utf8" });
      const facts = JSON.parse(execFileSync("bash", ["-c", p.facts], { encoding: "utf8" }));
      assert.ok(["cgroup2", "cgroup1", "taskset"].includes(facts.limits.mode), `mode ${facts.limits.mode}`);
      assert.equal(facts.limits.probe.cpusAllowed, first);
      if (facts.limits.mode === "taskset") {
        assert.match(facts.limits.note, /NO memory limit/);
      } else {
        assert.equal(facts.limits.probe.memoryLimit, String(768 * 2 ** 20));
        assert.match(facts.limits.probe.cgroups, /virtperf-citest-native/);
      }
    } finally {
      for (const c of [...p.commands].reverse()) if (c.delete) execFileSync("bash", ["-c", c.delete], { encoding: "utf8" });
      await rm(scratch, { recursive: true, force: true });
    }
    const left = execFileSync("bash", ["-c", "find /sys/fs/cgroup -maxdepth 4 -name 'virtperf-citest-native' 2>/dev/null || true"], { encoding: "utf8" });
    assert.equal(left.trim(), "", "cgroup left behind");
  });
});
