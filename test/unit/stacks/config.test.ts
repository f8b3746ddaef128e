import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseExperiment, parseCpuset, formatCpuset, namespaceKeys } from "../../../stacks/config.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { PRESETS, PRESET_NAMES } from "../../../stacks/kinds.ts";
import { WORKLOAD_IDS } from "../../../workloads/contract.ts";

const twoCpus = { cpus: [0, 1], memoryMiB: 24105 };
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQSECRETBODY\n-----END OPENSSH PRIVATE KEY-----\n";

describe("parseExperiment: defaults", () => {
  it("fills every key from the host and the documented defaults", () => {
    const x = parseExperiment({}, "dev", twoCpus);
    assert.equal(x.host.cpuset, "0-1");
    assert.equal(x.host.cpus, 2);
    assert.equal(x.host.memoryMiB, 2048);
    assert.deepEqual(x.host.address, { kind: "local" });
    // A stack that lists none gets the study's configurations; kinds beyond the study only when named.
    assert.deepEqual(x.environments.map((e) => e.name), ["native", "docker", "docker-host", "docker-volume", "docker-host-volume", "kvm", "kvm-tuned"]);
    assert.ok(!x.environments.some((e) => e.options.kind === "podman"));
    assert.deepEqual(x.workloads, [...WORKLOAD_IDS]);
    assert.equal(x.profile, "quick");
    assert.equal(x.acceleration, "auto");
    assert.equal(x.dockerBaseImage, "debian:bookworm");
    assert.equal(x.host.ioDir, "/var/lib/virtperf/io");
  });
  it("memory defaults to half the host when the host is small", () => {
    assert.equal(parseExperiment({}, "dev", { cpus: [0], memoryMiB: 3000 }).host.memoryMiB, 1500);
  });
});

describe("parseExperiment: custom environments", () => {
  it("builds on a preset and overrides its options", () => {
    const x = parseExperiment({ environments: ["native", { name: "kvm-raw", preset: "kvm", diskFormat: "raw" }] }, "dev", twoCpus);
    assert.deepEqual(x.environments[1], { name: "kvm-raw", options: { ...PRESETS.kvm, diskFormat: "raw" } });
  });
  it("builds on a kind's base preset", () => {
    const x = parseExperiment({ environments: [{ name: "d", kind: "docker", network: "host" }] }, "dev", twoCpus);
    assert.deepEqual(x.environments[0]!.options, { kind: "docker", network: "host", storage: "overlay" });
  });
});

// Each bad value must be refused naming the key, the value, and (where it applies) what is allowed.
const bad: { name: string; raw: Record<string, unknown>; path: string; mentions: string[] }[] = [
  { name: "unknown preset", raw: { environments: ["native", "lxc"] }, path: "virtperf:environments[1]", mentions: ["lxc", ...PRESET_NAMES] },
  { name: "cpuset beyond the host", raw: { cpuset: "0-7" }, path: "virtperf:cpuset", mentions: ["0-7", "CPU 2, 3, 4, 5, 6, 7", "0-1"] },
  { name: "cpuset syntax", raw: { cpuset: "zero" }, path: "virtperf:cpuset", mentions: ["zero"] },
  { name: "memory above the host", raw: { memoryMiB: 999999 }, path: "virtperf:memoryMiB", mentions: ["999999", "24105"] },
  { name: "unknown workload", raw: { workloads: ["xz", "netperf"] }, path: "virtperf:workloads[1]", mentions: ["netperf", "nuttcp", "mysql"] },
  { name: "duplicate workload", raw: { workloads: ["xz", "xz"] }, path: "virtperf:workloads[1]", mentions: ["twice"] },
  { name: "unknown profile", raw: { profile: "fast" }, path: "virtperf:profile", mentions: ["fast", "smoke, quick, full"] },
  { name: "acceleration", raw: { acceleration: "hvf" }, path: "virtperf:acceleration", mentions: ["hvf", "auto, kvm, tcg"] },
  { name: "repetitions zero", raw: { repetitions: 0 }, path: "virtperf:repetitions", mentions: ["0"] },
  { name: "unknown key", raw: { repetition: 3 }, path: "virtperf:repetition", mentions: ["virtperf:repetitions"] },
  { name: "option of another kind", raw: { environments: [{ name: "d", preset: "docker", hugepages: true }] }, path: "virtperf:environments[0]", mentions: ["network", "storage"] },
  { name: "bad option value", raw: { environments: [{ name: "d", preset: "docker", network: "macvlan" }] }, path: "virtperf:environments[0].network", mentions: ["macvlan"] },
  { name: "custom without preset", raw: { environments: [{ name: "x" }] }, path: "virtperf:environments[0].preset", mentions: ["native"] },
  { name: "duplicate name", raw: { environments: ["docker", { name: "docker", preset: "docker-host" }] }, path: "virtperf:environments[1].name", mentions: ["duplicate"] },
  { name: "ssh host without key", raw: { host: { host: "h", user: "u", hostPublicKey: "ssh-ed25519 AAA" } }, path: "virtperf:host.privateKey", mentions: ["privateKeyFile"] },
  { name: "ssh host with both key options", raw: { host: { host: "h", user: "u", hostPublicKey: "ssh-ed25519 AAA", privateKey: PRIVATE_KEY, privateKeyFile: "/home/u/.ssh/id_ed25519" } },
    path: "virtperf:host.privateKey", mentions: ["not both", "[secret]"] },
  { name: "ssh user starting with '-'", raw: { host: { host: "h", user: "-oProxyCommand=x", hostPublicKey: "ssh-ed25519 AAA", privateKeyFile: "/k" } }, path: "virtperf:host.user", mentions: ["not starting with '-'"] },
  { name: "relative key file", raw: { host: { host: "h", user: "u", hostPublicKey: "ssh-ed25519 AAA", privateKeyFile: "~/.ssh/id" } }, path: "virtperf:host.privateKeyFile", mentions: ["absolute path"] },
  { name: "client without a pinned host key", raw: { client: { host: "c", user: "u" } }, path: "virtperf:client.hostPublicKey", mentions: ["knownHostsFile or hostPublicKey"] },
  { name: "client with both pins", raw: { client: { host: "c", user: "u", knownHostsFile: "/kh", hostPublicKey: "ssh-ed25519 AAA" } }, path: "virtperf:client.hostPublicKey", mentions: ["not both"] },
  { name: "docker base image not a reference", raw: { dockerBaseImage: "debian:bookworm; rm -rf /" }, path: "virtperf:dockerBaseImage", mentions: ["Docker image reference"] },
  { name: "scratchDir with a newline, shown escaped on one line", raw: { scratchDir: "/var/lib/x\nEOF" }, path: "virtperf:scratchDir", mentions: ['"/var/lib/x\\nEOF"', "control character"] },
];

describe("parseExperiment: SSH host key material", () => {
  it("a privateKey secret goes to <keysDir>/<stack>-host, the pin to <keysDir>/<stack>-host.known_hosts (outside the project)", () => {
    const x = parseExperiment({ host: { host: "10.0.0.5", user: "bench", privateKey: PRIVATE_KEY, hostPublicKey: "ssh-ed25519 AAA" } }, "lab", twoCpus, { keysDir: "/home/u/.cache/virtperf/keys" });
    assert.deepEqual(x.host.address, { kind: "ssh", host: "10.0.0.5", user: "bench", port: 22, privateKeyFile: "/home/u/.cache/virtperf/keys/lab-host",
      keyFromSecret: true, hostPublicKey: "ssh-ed25519 AAA", knownHostsFile: "/home/u/.cache/virtperf/keys/lab-host.known_hosts" });
    assert.ok(!JSON.stringify(x).includes("SECRETBODY"), "the key's text is not in the Experiment");
  });
  it("the user's own key file is used as it is, never written", () => {
    const x = parseExperiment({ host: { host: "h", user: "u", privateKeyFile: "/home/u/.ssh/id_ed25519", hostPublicKey: "ssh-ed25519 AAA" } }, "lab", twoCpus, { keysDir: "/kd" });
    assert.equal(x.host.address.kind === "ssh" && x.host.address.privateKeyFile, "/home/u/.ssh/id_ed25519");
    assert.equal(x.host.address.kind === "ssh" && x.host.address.keyFromSecret, false);
  });
  it("the default keys directory is per user, outside the project", () => {
    const x = parseExperiment({ host: { host: "h", user: "u", privateKey: PRIVATE_KEY, hostPublicKey: "ssh-ed25519 AAA" } }, "lab", twoCpus);
    assert.ok(x.host.address.kind === "ssh" && !x.host.address.privateKeyFile.startsWith(process.cwd()), x.host.address.kind === "ssh" ? x.host.address.privateKeyFile : "");
  });
  it("any mistake in the host block never prints the private key", () => {
    for (const host of [
      { host: "h", user: "-u", privateKey: PRIVATE_KEY, hostPublicKey: "ssh-ed25519 AAA" },
      { host: "h", user: "u", privateKey: PRIVATE_KEY, hostPublicKey: "not a key" },
      { host: "h", user: "u", privateKey: "SECRETBODY not a PEM block", hostPublicKey: "ssh-ed25519 AAA" },
      { host: "h", user: "u", privateKey: PRIVATE_KEY, hostPublicKey: "ssh-ed25519 AAA", extra: 1 },
    ]) {
      assert.throws(() => parseExperiment({ host }, "lab", twoCpus), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.ok(!e.message.includes("SECRETBODY") && !e.message.includes("PRIVATE KEY-----\n"), e.message);
        assert.match(e.message, /"privateKey":"\[secret\]"/);
        return true;
      });
    }
  });
  it("a client machine: its hostPublicKey is pinned in <keysDir>/<stack>-client.known_hosts", () => {
    const x = parseExperiment({ client: { host: "c.example", user: "u", hostPublicKey: "ssh-ed25519 AAA" } }, "lab", twoCpus, { keysDir: "/kd" });
    assert.deepEqual(x.client, { kind: "ssh", target: { kind: "ssh", host: "c.example", user: "u", knownHostsFile: "/kd/lab-client.known_hosts" }, hostPublicKey: "ssh-ed25519 AAA" });
  });
});

describe("parseExperiment: refusals", () => {
  for (const c of bad) {
    it(c.name, () => {
      assert.throws(() => parseExperiment(c.raw, "dev", twoCpus), (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
        assert.equal(e.propertyPath, c.path);
        for (const m of c.mentions) assert.ok(e.message.includes(m), `message lacks "${m}": ${e.message}`);
        return true;
      });
    });
  }
});

describe("cpusets and config maps", () => {
  const cases: [string, number[], string][] = [["0-1", [0, 1], "0-1"], ["3,0-1", [0, 1, 3], "0-1,3"], ["2", [2], "2"], ["0-2,4-5", [0, 1, 2, 4, 5], "0-2,4-5"]];
  for (const [text, cpus, formatted] of cases) {
    it(`"${text}"`, () => {
      assert.deepEqual(parseCpuset(text), cpus);
      assert.equal(formatCpuset(cpus), formatted);
    });
  }
  it("namespaceKeys strips virtperf: and decodes JSON values as pulumi.Config gives them", () => {
    assert.deepEqual(namespaceKeys({ "virtperf:repetitions": "3", "virtperf:environments": '["native"]', "virtperf:cpuset": "0-1", "aws:region": "x" }),
      { repetitions: 3, environments: ["native"], cpuset: "0-1" });
  });
});

describe("stack files", () => {
  // Each file against a host like the one it describes: the dev stack here, the examples on their hardware.
  const files: [string, { cpus: number[]; memoryMiB: number }, number][] = [
    ["Pulumi.dev.yaml", twoCpus, 7],
    ["stacks/examples/Pulumi.two-socket.yaml", { cpus: Array.from({ length: 32 }, (_, i) => i), memoryMiB: 262144 }, 7],
    ["stacks/examples/Pulumi.cloud-vm.yaml", { cpus: [0, 1, 2, 3], memoryMiB: 16384 }, 5],
  ];
  for (const [file, hostOf, envs] of files) {
    it(`${file} is a valid stack`, async () => {
      const { readFileSync } = await import("node:fs");
      const { parse } = await import("yaml");
      const doc = parse(readFileSync(new URL(`../../../${file}`, import.meta.url), "utf8")) as { config: Record<string, unknown> };
      const x = parseExperiment(namespaceKeys(doc.config), "s", hostOf);
      assert.equal(x.environments.length, envs);
    });
  }
  it("the cloud VM example has no KVM guest", async () => {
    const { readFileSync } = await import("node:fs");
    const { parse } = await import("yaml");
    const doc = parse(readFileSync(new URL("../../../stacks/examples/Pulumi.cloud-vm.yaml", import.meta.url), "utf8")) as { config: Record<string, unknown> };
    const x = parseExperiment(namespaceKeys(doc.config), "s", { cpus: [0, 1, 2, 3], memoryMiB: 16384 });
    assert.ok(x.environments.every((e) => e.options.kind !== "kvm"));
  });
});

describe("calibration (A/A copies)", () => {
  const host = { cpus: [0, 1], memoryMiB: 24105 };
  it("adds an identical copy <name>-aa of each listed environment, after the stack's own", () => {
    const x = parseExperiment({ environments: ["native", "docker-host-volume"], calibration: ["native", "docker-host-volume"] }, "dev", host);
    assert.deepEqual(x.environments.map((e) => [e.name, e.calibrationOf]), [
      ["native", undefined], ["docker-host-volume", undefined], ["native-aa", "native"], ["docker-host-volume-aa", "docker-host-volume"]]);
    assert.deepEqual(x.environments[3]!.options, x.environments[1]!.options);
  });
  const bad: [unknown, string, RegExp][] = [
    [["kvm"], "virtperf:calibration[0]", /not an environment of this stack; allowed: native/],
    [["native", "native"], "virtperf:calibration[1]", /listed twice/],
    ["native", "virtperf:calibration", /expected array/],
  ];
  for (const [value, path, message] of bad) {
    it(`refuses ${JSON.stringify(value)}`, () => {
      assert.throws(() => parseExperiment({ environments: ["native"], calibration: value }, "dev", host),
        (e: unknown) => e instanceof ConfigError && e.propertyPath === path && message.test(e.message));
    });
  }
});

describe("retryContaminated", () => {
  const host = { cpus: [0, 1], memoryMiB: 24105 };
  it("0 by default; a count 0..3 goes on every trial command, outside the run id", async () => {
    const { plan } = await import("../../../stacks/planner.ts");
    const { KVM_NOT_USABLE } = await import("../../helpers/kvm-proofs.ts");
    const none = parseExperiment({ environments: ["native"], workloads: ["xz"] }, "dev", host);
    const two = parseExperiment({ environments: ["native"], workloads: ["xz"], retryContaminated: 2 }, "dev", host);
    assert.equal(none.retryContaminated, 0);
    const probe = { ...host, kvm: KVM_NOT_USABLE };
    assert.ok(plan(none, probe).trials.every((t) => !t.command.includes("--retry-contaminated")));
    assert.ok(plan(two, probe).trials.every((t) => t.command.includes("--retry-contaminated 2")));
    assert.equal(plan(two, probe).runId, plan(none, probe).runId);
  });
  for (const value of [-1, 4, 1.5, "x"]) {
    it(`refuses ${JSON.stringify(value)}`, () => assert.throws(() => parseExperiment({ retryContaminated: value }, "dev", host),
      (e: unknown) => e instanceof ConfigError && /virtperf:retryContaminated/.test(e.message) && /a whole number 0\.\.3/.test(e.message)));
  }
});

describe("margins", () => {
  const host = { cpus: [0, 1], memoryMiB: 24105 };
  it("percent per workload group, carried into the experiment (and so into experiment.json)", () => {
    assert.deepEqual(parseExperiment({ margins: { cpu: 1, io: 10 } }, "dev", host).margins, { cpu: 1, io: 10 });
    assert.equal(parseExperiment({}, "dev", host).margins, undefined);
  });
  const bad: [unknown, RegExp][] = [[{ disk: 5 }, /virtperf:margins/], [{ cpu: 0 }, /virtperf:margins\.cpu/], [{ cpu: 80 }, /virtperf:margins\.cpu/], ["2", /virtperf:margins/]];
  for (const [value, message] of bad) {
    it(`refuses ${JSON.stringify(value)}`, () => assert.throws(() => parseExperiment({ margins: value }, "dev", host),
      (e: unknown) => e instanceof ConfigError && message.test(e.message) && /allowed: \{cpu\?, memory\?/.test(e.message)));
  }
});
