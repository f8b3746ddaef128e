/**
 * Hostile values through config, planner and runner (issue 10, command injection). Each value that could
 * reach a shell (`;`, `$(...)`, backticks, newlines, quotes, spaces, non-ASCII, a leading '-') is fed to
 * every key and flag it could reach. The table says, for each, whether it is refused (a ConfigError naming
 * the key, on one line) or passed literally; what passes is then run for real: the planned steps in a
 * scratch directory and a `virtperf trial` through the runner, and the files land at the literal paths,
 * with the literal content. Every `$(...)`/backtick value would `touch` a canary file; none may exist.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parseExperiment } from "../../../stacks/config.ts";
import { plan } from "../../../stacks/planner.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { sshRemoteCommand } from "../../../workloads/runner/targets.ts";
import { targetProblem } from "../../../model/target-check.ts";
import { KVM_NOT_USABLE } from "../../helpers/kvm-proofs.ts";

const scratch = mkdtempSync(join(tmpdir(), "virtperf-hostile-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const canary = join(scratch, "CANARY");
const keysDir = join(scratch, "keys");
const facts = { cpus: [0, 1], memoryMiB: 24105 };
const probe = { ...facts, kvm: KVM_NOT_USABLE, threadsPerCore: 1 };
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMbSxF5kHq0v0k5wHcVq9W2x3nGk4zv4fI9CkIcNqvWc";

/** The hostile values: each would run `touch CANARY` or change a command if it reached a shell unquoted. */
const HOSTILE: Record<string, string> = {
  semicolon: `/tmp/a; touch ${canary}`,
  substitution: `/tmp/$(touch ${canary})`,
  backticks: `/tmp/\`touch ${canary}\``,
  newline: `/tmp/a\ntouch ${canary}`,
  "single quote": "/tmp/it's",
  "double quote": '/tmp/a"b',
  space: "/tmp/a b",
  "non-ASCII": "/tmp/caf\u00e9",
  "leading dash": "-rf",
};

/** A raw stack config with `value` put at `key` (a dotted path into host/client/environments). */
function configWith(key: string, value: string): Record<string, unknown> {
  const sshHost = { host: "bench.example", user: "bench", privateKeyFile: "/k/id", hostPublicKey: KEY };
  const client = { host: "client.example", user: "c", hostPublicKey: KEY };
  const base: Record<string, unknown> = { environments: ["native", "docker", "kvm"], workloads: ["xz"], cpuset: "0", memoryMiB: 512 };
  const [top, sub] = key.split(".");
  if (top === "host") return { ...base, host: { ...sshHost, [sub!]: value } };
  if (top === "client") return { ...base, client: { ...client, [sub!]: value } };
  if (top === "environments") return { ...base, environments: [{ name: value, preset: "native" }] };
  return { ...base, [top!]: value };
}

type Outcome = "refused" | "passed literally";
const KEYS = ["scratchDir", "ioDir", "resultsRoot", "guestImage", "dockerBaseImage", "debianSuite", "environments.name",
  "host.host", "host.user", "host.privateKeyFile", "host.hostPublicKey", "client.host", "client.user", "client.identityFile",
  "client.knownHostsFile", "client.jump"] as const;
const propertyPath = (key: string) => `virtperf:${key === "environments.name" ? "environments[0].name" : key}`;

/**
 * What each key does with each value. Everything is refused, except a public key's comment, which is
 * free printable ASCII (written to known_hosts through printf '%s' with the line quoted): passed literally.
 */
function expected(key: string, value: string): Outcome {
  if (key === "host.hostPublicKey" && !/[\n\u0080-\uffff]/.test(value)) return "passed literally";
  return "refused";
}
const valueFor = (key: string, value: string) => (key === "host.hostPublicKey" ? `${KEY} ${value}` : value);

describe("hostile values in the stack config: refused with a one-line ConfigError naming the key, or passed literally", () => {
  const rows: string[] = [];
  after(() => console.log(`# hostile config values (key | value | outcome):\n${rows.map((r) => `#   ${r}`).join("\n")}`));
  for (const key of KEYS) {
    for (const [name, raw] of Object.entries(HOSTILE)) {
      const value = valueFor(key, raw);
      const want = expected(key, raw);
      it(`${key} = ${name}: ${want}`, () => {
        let got: Outcome = "passed literally";
        try {
          parseExperiment(configWith(key, value), "hostile", facts, { keysDir });
        } catch (e) {
          assert.ok(e instanceof ConfigError, String(e));
          assert.equal(e.propertyPath, propertyPath(key), e.message);
          assert.ok(!e.shortMessage.includes("\n"), `one line: ${e.shortMessage}`);
          got = "refused";
        }
        rows.push(`${key} | ${name} | ${got}`);
        assert.equal(got, want);
      });
    }
  }
});

describe("hostile values in a trial's targets: refused before anything connects", () => {
  const ssh = { kind: "ssh", host: "h", user: "u" };
  const guest = { kind: "guest", domain: "virtperf-x-kvm", user: "root", identityFile: "/k" };
  const fields: [string, Record<string, unknown>, string][] = [
    ["ssh host", ssh, "host"], ["ssh user", ssh, "user"], ["ssh identityFile", ssh, "identityFile"], ["ssh knownHostsFile", ssh, "knownHostsFile"],
    ["ssh jump", ssh, "jump"], ["docker container", { kind: "docker", container: "c" }, "container"], ["guest domain", guest, "domain"],
    ["guest identityFile", guest, "identityFile"], ["guest knownHostsFile", guest, "knownHostsFile"], ["guest libvirtUri", guest, "libvirtUri"],
  ];
  for (const [what, spec, field] of fields) {
    for (const [name, value] of Object.entries(HOSTILE)) {
      it(`${what} = ${name}`, () => assert.match(targetProblem({ ...spec, [field]: value }) ?? "accepted", new RegExp(`"${field}" must be`)));
    }
  }
  it("a leading-dash host (an ssh option in disguise) through `virtperf trial`: exit 2, one line, nothing ran", async () => {
    const environment = JSON.stringify({
      name: "x", kind: "native", acceleration: "none", target: { kind: "ssh", host: `-oProxyCommand=touch ${canary}`, user: "root" },
      client: { kind: "local" }, host: { kind: "local" }, ports: [], dataDir: "/var/tmp/d", workRoot: "/tmp", shape: { cpus: 1, memoryMiB: 256 },
    });
    const r = await execa("bin/virtperf", ["trial", "--environment", environment, "--workload", "xz", "--out", join(scratch, "out")], { reject: false });
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /^virtperf: --environment: "target" is not a usable target: "host" must be a host name/);
    assert.equal(existsSync(canary), false);
  });
  it("an ssh target's wrap words reach the far side's shell quoted: passed literally, never interpreted", () => {
    const words = [`$(touch ${canary})`, `\`touch ${canary}\``, "a b; c", "it's", "caf\u00e9", "-rf", "line\nbreak"];
    // What sshd's login shell runs (bash -c <the remote command line>); printf prints each word, then timeout's.
    const out = execFileSync("bash", ["-c", sshRemoteCommand({ wrap: ["printf", "%s\\0", ...words] }, 10)], { encoding: "utf8" });
    assert.deepEqual(out.split("\0").slice(0, words.length), words);
    assert.equal(existsSync(canary), false);
  });
});

describe("what passes goes through the planned steps literally (run in a scratch directory)", () => {
  // Allowed but unusual: every character the path grammar admits besides letters and digits.
  const root = join(scratch, "Odd+Dir_1.x-y");
  const comment = `$(touch ${canary}) \`touch ${canary}\`; it's "quoted"`;
  let p: ReturnType<typeof plan>;
  before(() => {
    const x = parseExperiment({
      environments: ["native", "docker-volume", "kvm"], workloads: ["xz"], profile: "smoke", repetitions: 1, cpuset: "0", memoryMiB: 512,
      scratchDir: `${root}/scratch`, ioDir: `${root}/io+disk`, resultsRoot: `${root}/results`,
      client: { host: "client.example", user: "c", port: 2222, hostPublicKey: `${KEY} ${comment}` },
    }, "hostile", facts, { keysDir });
    p = plan(x, probe);
    // The guest base image the disk step copies: a tiny raw file where the planner expects it.
    const disk = p.environments.find((e) => e.def.name === "kvm")!.commands.find((c) => c.role === "disk")!;
    const base = /\[ -r (\S+) \]/.exec(disk.create)![1]!;
    execFileSync("bash", ["-c", `mkdir -p "$(dirname ${base})" && qemu-img create -q -f raw ${base} 1M`]);
  });

  it("host dirs, pinned client key, Docker volume dir and the guest's disk with its own keys: at the literal paths", () => {
    const steps = [
      ...p.host.commands.filter((c) => ["host-dirs", "client-known-hosts"].includes(c.role)),
      ...p.environments.flatMap((e) => e.commands.filter((c) => ["volume-dir", "disk"].includes(c.role))),
    ];
    assert.deepEqual(steps.map((c) => c.role), ["client-known-hosts", "host-dirs", "volume-dir", "disk"]);
    for (const s of steps) {
      const r = spawnSync("bash", ["-c", s.create], { encoding: "utf8" });
      assert.equal(r.status, 0, `${s.role}: ${r.stderr}`);
    }
    assert.ok(statSync(`${root}/io+disk/hostile-native`).isDirectory());
    assert.ok(statSync(`${root}/scratch/work/hostile-native`).isDirectory());
    assert.ok(statSync(`${root}/io+disk/docker-volumes/hostile-docker-volume`).isDirectory());
    assert.equal(readFileSync(join(keysDir, "hostile-client.known_hosts"), "utf8"), `[client.example]:2222 ${KEY} ${comment}\n`);
    const guest = `${root}/scratch/guests/hostile-kvm`;
    assert.deepEqual(readdirSync(`${guest}.ssh`).sort(), ["host_ed25519_key", "host_ed25519_key.pub", "id_ed25519", "id_ed25519.pub", "known_hosts"]);
    assert.equal(statSync(`${guest}.ssh`).mode & 0o777, 0o700);
    assert.equal(statSync(`${guest}.seed.img`).mode & 0o777, 0o600, "the seed disk holds the guest's private host key");
    const pub = readFileSync(`${guest}.ssh/host_ed25519_key.pub`, "utf8").split(" ");
    assert.equal(readFileSync(`${guest}.ssh/known_hosts`, "utf8"), `virtperf-hostile-kvm ${pub[0]} ${pub[1]}\n`);
    // The seed disk carries exactly the guest's host key pair and root's authorized key.
    const ls = execFileSync("debugfs", ["-R", "ls -p /", `${guest}.seed.img`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    assert.deepEqual(ls.split("\n").map((l) => l.split("/")[5]).filter((n) => n && !n.startsWith(".") && n !== "lost+found").sort(),
      ["authorized_keys", "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]);
    assert.ok(existsSync(`${guest}.qcow2`));
    assert.equal(existsSync(canary), false);
  });

  it("a native trial through the runner writes its record under the literal results path", async () => {
    const t = p.trials.find((tr) => tr.environment === "native")!;
    const r = await execa("bash", ["-c", t.command], { reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    const record = JSON.parse(readFileSync(join(p.resultsDir, "trials.jsonl"), "utf8").trim().split("\n")[0]!);
    assert.equal(record.environment, "native");
    assert.ok(p.resultsDir.startsWith(`${root}/results/hostile/`));
    assert.equal(existsSync(canary), false);
  });

  it("the delete steps remove exactly what the create steps made", () => {
    for (const c of [...p.environments.flatMap((e) => e.commands), ...p.host.commands].filter((c) => c.delete && ["disk", "volume-dir", "host-dirs", "client-known-hosts"].includes(c.role))) {
      execFileSync("bash", ["-c", c.delete!]);
    }
    assert.equal(existsSync(`${root}/scratch/guests/hostile-kvm.ssh`), false);
    assert.equal(existsSync(`${root}/scratch/guests/hostile-kvm.seed.img`), false);
    assert.equal(existsSync(join(keysDir, "hostile-client.known_hosts")), false);
    assert.equal(existsSync(canary), false);
  });
});
