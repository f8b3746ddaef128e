/**
 * The Pulumi program under mocks: the resources each preset creates with their key inputs, the order of
 * trials, that every command resource carries exactly the planner's commands (the same ones `npm run e2e`
 * runs), and that bad config is refused before any resource exists. Touches neither Docker nor libvirt:
 * the host probe is injected.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allResources, promiseOf, resourcesOfType, runProgram, type RecordedResource } from "../pulumi-mocks.ts";
import { PROBE_ENV } from "../../stacks/host-probe.ts";
import { KEYS_DIR_ENV } from "../../stacks/keys.ts";
import { parseExperiment } from "../../stacks/config.ts";
import { plan } from "../../stacks/planner.ts";
import { imageCommands, type Plan } from "../../stacks/plan.ts";
import { dockerContainerArgs } from "../../stacks/docker/component.ts";
import type { DockerEnvironmentPlan } from "../../stacks/docker/spec.ts";
import { ConfigError, PreflightError } from "../../lib/errors.ts";
import { OBSERVATIONS_ENV } from "../../stacks/preflight/preflight.ts";
import { KVM_NOT_USABLE } from "../helpers/kvm-proofs.ts";

const probe = { cpus: [0, 1, 2, 3], memoryMiB: 16384, kvm: KVM_NOT_USABLE, threadsPerCore: 2 };
const { kvm: _proof, ...basic } = probe;
process.env[PROBE_ENV] = JSON.stringify(basic);
// The pre-flight reads this machine's real observations, captured (its KVM proof fails at cpu-virt: TCG).
const observations = readFileSync(new URL("../fixtures/host/observations-dev-2cpu-no-vmx.txt", import.meta.url), "utf8");
process.env[OBSERVATIONS_ENV] = observations;

const config = {
  cpuset: "0-1", memoryMiB: 1024, scratchDir: "/tmp/vp-mock",
  environments: ["native", "docker", "docker-host", "docker-volume", "docker-host-volume", "kvm", "kvm-tuned"],
  workloads: ["xz", "redis", "fio"], profile: "smoke", repetitions: 2, seed: 9,
  resultsRoot: mkdtempSync(join(tmpdir(), "virtperf-mock-results-")),
};

const COMMAND = "command:local:Command";
const byName = (rs: RecordedResource[], name: string) => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `no resource named ${name}; have: ${rs.map((x) => x.name).join(", ")}`);
  return r;
};

describe("index.ts under mocks", () => {
  let outputs: Record<string, unknown>;
  let expected: Plan;
  before(async () => {
    outputs = await runProgram(config);
    expected = plan(parseExperiment(config, "dev", probe), probe);
  });

  it("exports the run id, results folder and counts of the plan", async () => {
    assert.equal(await promiseOf(outputs.runId as string), expected.runId);
    assert.ok(String(await promiseOf(outputs.resultsDir as string)).endsWith(expected.resultsDir.replace(/^\//, "")));
    assert.deepEqual(await promiseOf(outputs.counts as never), { ok: 0, failed: 0, pending: expected.trials.length });
  });

  it("every command resource runs exactly the planner's commands, and all of them", () => {
    const planned = [
      ...expected.host.commands, ...imageCommands(expected), ...expected.environments.flatMap((e) => e.commands), ...expected.facts,
    ].map((c) => c.create).concat(expected.trials.map((t) => t.command)).sort();
    const program = resourcesOfType(COMMAND).map((r) => r.inputs.create as string).sort();
    assert.deepEqual(program, planned);
  });

  it("trials run in schedule order, each naming the previous one in its triggers", () => {
    const trials = resourcesOfType(COMMAND).filter((r) => r.name.startsWith("virtperf-dev-trials-")).sort((a, b) => a.seq - b.seq);
    assert.deepEqual(trials.map((r) => r.inputs.create), expected.trials.map((t) => t.command));
    trials.forEach((r, i) => {
      const [prev, retry] = r.inputs.triggers as string[];
      if (i === 0) assert.match(prev!, /::virtperf-dev-facts$/, "the first trial comes after the facts");
      else assert.match(prev!, new RegExp(`::${trials[i - 1]!.name}$`), `trial ${i} does not follow trial ${i - 1}`);
      assert.equal(retry, "attempt-0");
      assert.equal(r.inputs.delete, undefined, "pulumi destroy must never delete results");
    });
  });

  const dockerPresets: [string, string, boolean][] = [
    ["docker", "bridge", false], ["docker-host", "host", false], ["docker-volume", "bridge", true], ["docker-host-volume", "host", true],
  ];
  for (const [env, network, volume] of dockerPresets) {
    it(`${env}: container on ${network} network, ${volume ? "a volume" : "overlay"} for data, same CPU set and memory`, () => {
      const c = byName(resourcesOfType("docker:index/container:Container"), `virtperf-dev-${env}-container`).inputs;
      const spec = (expected.environments.find((e) => e.def.name === env) as DockerEnvironmentPlan).spec;
      const want = dockerContainerArgs(spec);
      assert.equal(c.networkMode, network);
      assert.equal(c.cpuSet, "0-1");
      assert.equal(c.memory, 1024);
      assert.deepEqual(c.ports ?? [], want.ports);
      assert.deepEqual((c.mounts as unknown[] | undefined) ?? [], want.mounts);
      assert.equal(((c.mounts as unknown[] | undefined) ?? []).length, volume ? 1 : 0);
      assert.equal(c.image, spec.image);
    });
  }

  const kvmPresets: [string, RegExp[], RegExp[]][] = [
    ["kvm", [/<domain type='qemu'/, /type='qcow2'/], [/<vcpupin/, /<hugepages/]],
    ["kvm-tuned", [/<domain type='qemu'/, /<vcpupin/, /<hugepages/, /type='raw'/, /cache='none'/, /queues=/], []],
  ];
  for (const [env, has, hasNot] of kvmPresets) {
    it(`${env}: disk then domain, TCG here, domain XML with the preset's features`, () => {
      const cmds = resourcesOfType(COMMAND).filter((r) => r.name.startsWith(`virtperf-dev-${env}-`));
      const domain = byName(cmds, `virtperf-dev-${env}-domain`);
      const disk = byName(cmds, `virtperf-dev-${env}-disk`);
      assert.ok(disk.seq < domain.seq);
      const xml = domain.inputs.create as string;
      for (const re of has) assert.match(xml, re);
      for (const re of hasNot) assert.doesNotMatch(xml, re);
      assert.ok(typeof domain.inputs.delete === "string" && /undefine/.test(domain.inputs.delete as string));
    });
  }

  it("native: host preparation with the cgroup of the same CPU set and memory", () => {
    const host = resourcesOfType(COMMAND).filter((r) => r.name.startsWith("virtperf-dev-host-"));
    assert.deepEqual(host.map((r) => r.inputs.create), expected.host.commands.map((c) => c.create));
    const cgroup = byName(host, "virtperf-dev-host-native-cgroup").inputs.create as string;
    assert.match(cgroup, /0-1/);
    assert.match(cgroup, new RegExp(String(1024 * 2 ** 20)));
  });
});

describe("index.ts on an SSH host with privateKey as a secret", () => {
  const keysDir = join(mkdtempSync(join(tmpdir(), "virtperf-mock-keys-")), "keys");
  const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nMOCKKEYBODY\n-----END OPENSSH PRIVATE KEY-----\n";
  const sshConfig = {
    ...config, environments: ["native", "docker"], workloads: ["xz"],
    host: { host: "bench.example", user: "bench", port: 2222, privateKey: key, hostPublicKey: "ssh-ed25519 AAAAC3Nza host" },
  };
  let outputs: Record<string, unknown>;
  before(async () => {
    process.env[KEYS_DIR_ENV] = keysDir;
    try { outputs = await runProgram(sshConfig, "lab"); } finally { delete process.env[KEYS_DIR_ENV]; }
    // Resources register as the program's outputs resolve: wait for all of them.
    for (const v of Object.values(outputs)) await promiseOf(v as never);
  });

  it("writes the key outside the project (0700 directory, 0600 file) and gives it a resource that removes it on destroy", () => {
    const file = join(keysDir, "lab-host");
    assert.equal(readFileSync(file, "utf8"), key);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(keysDir).mode & 0o777, 0o700);
    const r = byName(resourcesOfType(COMMAND), "virtperf-lab-host-key");
    assert.equal(r.inputs.delete, `rm -f ${file}`);
  });

  it("remote steps pin the host key; the Docker provider uses the stack's key and the pinned known_hosts", () => {
    const remotes = resourcesOfType("command:remote:Command");
    assert.ok(remotes.length > 0);
    for (const r of remotes) {
      // The whole connection, key included, is a secret (Pulumi's secret signature): encrypted in the state.
      const wrapped = r.inputs.connection as Record<string, unknown>;
      assert.equal(wrapped["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", `${r.name}: connection not secret`);
      assert.equal((wrapped.value as Record<string, unknown>).hostKey, "ssh-ed25519 AAAAC3Nza host", r.name);
    }
    const provider = byName(resourcesOfType("pulumi:providers:docker"), "virtperf-lab-docker-provider");
    assert.equal(provider.inputs.host, "ssh://bench@bench.example:2222");
    const opts = JSON.parse(provider.inputs.sshOpts as string) as string[];
    for (const o of [`UserKnownHostsFile=${keysDir}/lab-host.known_hosts`, "StrictHostKeyChecking=yes", `${keysDir}/lab-host`]) assert.ok(opts.includes(o), o);
  });

  it("no stack output carries the key", async () => {
    for (const [k, v] of Object.entries(outputs)) assert.ok(!JSON.stringify(await promiseOf(v as never)).includes("MOCKKEYBODY"), k);
  });
});

describe("index.ts refuses bad config before any resource", () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ["cpuset beyond the host", { cpuset: "0-7" }, "virtperf:cpuset"],
    ["unknown preset", { environments: ["native", "lxc"] }, "virtperf:environments[1]"],
    ["memory above the host", { memoryMiB: 99999 }, "virtperf:memoryMiB"],
    ["both key options for an SSH host", { host: { host: "h", user: "u", privateKeyFile: "/k", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nX\n-----END OPENSSH PRIVATE KEY-----\n", hostPublicKey: "ssh-ed25519 AAA" } }, "virtperf:host.privateKey"],
  ];
  for (const [what, cfg, path] of bad) {
    it(what, async () => {
      await assert.rejects(runProgram({ ...config, ...cfg }), (e: unknown) => e instanceof ConfigError && e.propertyPath === path);
      assert.deepEqual(allResources(), []);
    });
  }
});

describe("index.ts runs the pre-flight before any resource", () => {
  const failing: [string, string, RegExp][] = [
    ["Docker daemon down", "docker.down=Cannot connect to the Docker daemon at unix:///var/run/docker.sock", /Docker daemon answers \(docker, docker-host/],
    ["libvirt network inactive", "libvirt.network=no", /libvirt network 'default' active \(kvm, kvm-tuned\)/],
    ["fio missing for native", "tool.fio=missing", /native tools \(native\)/],
  ];
  for (const [what, line, names] of failing) {
    it(`${what}: refused with the table, naming the environments`, async () => {
      process.env[OBSERVATIONS_ENV] = `${observations}\n${line}\n`;
      try {
        await assert.rejects(runProgram(config), (e: unknown) => e instanceof PreflightError && names.test(e.shortMessage) && /FAIL/.test(e.table));
        assert.deepEqual(allResources(), []);
      } finally {
        process.env[OBSERVATIONS_ENV] = observations;
      }
    });
  }

  it("acceleration kvm on a host whose KVM proof fails is refused, naming the check and its fix", async () => {
    await assert.rejects(runProgram({ ...config, acceleration: "kvm" }), (e: unknown) =>
      e instanceof PreflightError && /guest acceleration/.test(e.shortMessage) && /cpu-virt/.test(e.table) && /AMD-V/.test(e.table));
    assert.deepEqual(allResources(), []);
  });
});

describe("resource names and types stay as they were (an existing stack is not replaced)", () => {
  it("every (type, name) of the all-presets program equals the recorded list", async () => {
    const outputs = await runProgram(config);
    await promiseOf(outputs.counts as never); // every resource is registered once the trials' outputs resolve
    const now = allResources().map((r) => `${r.type} ${r.name}`).sort();
    const recordedList = readFileSync(new URL("../fixtures/pulumi/resources-dev-all-presets.txt", import.meta.url), "utf8").trim().split("\n");
    assert.deepEqual(now, recordedList);
  });
});
