/**
 * Bad input to every verb: one line naming the flag (or value) and what is allowed, exit code 2, no stack
 * trace, nothing on stdout, and never a hang (each run has a time limit). `virtperf trial`, `virtperf e2e`
 * and `npm run e2e` (cli/e2e.ts run directly).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";

const LIMIT_MS = 60_000;

/** A usable environment description (what the planner writes), and ones with one field made bad. */
const GOOD_ENV = {
  name: "native", kind: "native", acceleration: "none", target: { kind: "local" }, client: { kind: "local" }, host: { kind: "local" },
  ports: [], dataDir: "/var/tmp/virtperf-data", workRoot: "/tmp", shape: { cpus: 1, memoryMiB: 512 },
};
const env = (change: Record<string, unknown>) => JSON.stringify({ ...GOOD_ENV, ...change });

const trialCases: { args: string[]; says: RegExp }[] = [
  { args: ["--env", "native", "--workload", "nope"], says: /unknown workload "nope"; valid values: xz, linpack, stream, randomaccess, nuttcp, rr, fio, redis, mysql/ },
  { args: ["--env", "native", "--workload", "xz", "--profile", "huge"], says: /unknown profile "huge"; valid values: smoke, quick, full/ },
  { args: ["--workload", "xz", "--env", "docker"], says: /--env "docker": only native can be run without its description; give --environment/ },
  { args: ["--workload", "xz"], says: /no environment given; give --environment/ },
  { args: ["--workload", "xz", "--env", "native", "--environment", env({})], says: /give either --environment .* or --env native .*, not both/ },
  { args: ["--env", "native", "--workload", "xz", "--rep", "-1"], says: /--rep must be a whole number >= 0, got "-1"/ },
  { args: ["--env", "native", "--workload", "xz", "--rep", "x"], says: /--rep must be a whole number >= 0, got "x"/ },
  { args: ["--env", "native", "--workload", "xz", "--order", "1.5"], says: /--order must be a whole number >= 0, got "1.5"/ },
  { args: ["--env", "native", "--workload", "xz", "--seed", "abc"], says: /--seed must be a whole number 0\.\.4294967295, got "abc"/ },
  { args: ["--env", "native", "--workload", "xz", "--seed", ""], says: /--seed must be a whole number 0\.\.4294967295, got ""/ },
  { args: ["--env", "native", "--workload", "xz", "--seed", "1e3"], says: /--seed must be a whole number 0\.\.4294967295, got "1e3"/ },
  { args: ["--env", "native", "--workload", "xz", "--seed", "4294967296"], says: /--seed must be a whole number 0\.\.4294967295/ },
  { args: ["--env", "native", "--workload", "xz", "--out", "-rf"], says: /--out "-rf": must be a path/ },
  { args: ["--env", "native", "--workload", "xz", "--bogus"], says: /unknown option '--bogus'/ },
  { args: ["--workload", "xz", "--environment", "{bad"], says: /--environment is not valid JSON/ },
  { args: ["--workload", "xz", "--environment", "[1]"], says: /--environment: must be a JSON object/ },
  { args: ["--workload", "xz", "--environment", env({ extra: 1 })], says: /--environment: unknown field "extra"; fields: name, kind/ },
  { args: ["--workload", "xz", "--environment", env({ kind: "vm" })], says: /--environment: "kind" must be one of native, docker, kvm/ },
  { args: ["--workload", "xz", "--environment", env({ acceleration: "hvf" })], says: /--environment: "acceleration" must be one of none, kvm, tcg/ },
  { args: ["--workload", "xz", "--environment", env({ kind: "kvm" })], says: /a kvm environment runs with acceleration kvm or tcg, not none/ },
  { args: ["--workload", "xz", "--environment", env({ name: "a b" })], says: /--environment: "name" must be a name of letters/ },
  { args: ["--workload", "xz", "--environment", env({ target: { kind: "telnet" } })], says: /"target" is not a usable target: unknown target kind "telnet"; valid values: local, ssh, docker, guest/ },
  { args: ["--workload", "xz", "--environment", env({ client: { kind: "ssh", host: "c" } })], says: /"client" is not a usable target: "user" is required for kind ssh/ },
  { args: ["--workload", "xz", "--environment", env({ target: { kind: "ssh", host: "h", user: "-oProxyCommand=x" } })], says: /"target" is not a usable target: "user" must be a user name/ },
  { args: ["--workload", "xz", "--environment", env({ target: { kind: "local", extra: 1 } })], says: /unknown field "extra" for kind local/ },
  { args: ["--workload", "xz", "--environment", env({ ports: [70000] })], says: /"ports" must be a list of ports 1\.\.65535/ },
  { args: ["--workload", "xz", "--environment", env({ ports: "21000" })], says: /"ports" must be a list of ports 1\.\.65535/ },
  { args: ["--workload", "xz", "--environment", env({ shape: { cpus: 0, memoryMiB: 1 } })], says: /"shape" must have cpus, a whole number >= 1 \(got 0\)/ },
  { args: ["--workload", "xz", "--environment", env({ shape: { cpus: 1, memoryMiB: "lots" } })], says: /"shape" must have memoryMiB, a whole number >= 1 \(got "lots"\)/ },
  { args: ["--workload", "xz", "--environment", env({ dataDir: "data" })], says: /"dataDir" must be an absolute path/ },
  { args: ["--workload", "xz", "--environment", env({ workRoot: "/tmp/$(id)" })], says: /"workRoot" must be an absolute path/ },
  { args: ["--workload", "xz", "--environment", env({ target: undefined })], says: /"target" is required/ },
];

const e2eCases: { args: string[]; says: RegExp }[] = [
  { args: ["--seed", "abc"], says: /--seed must be a whole number 0\.\.4294967295, got "abc"/ },
  { args: ["--seed", "-3"], says: /--seed must be a whole number 0\.\.4294967295, got "-3"/ },
  { args: ["--repetitions", "x"], says: /--repetitions must be a whole number 1\.\.1000, got "x"/ },
  { args: ["--repetitions", "0"], says: /--repetitions must be a whole number 1\.\.1000, got "0"/ },
  { args: ["--environments", "native,lxc"], says: /--environments: unknown environment \(the stack's names or a preset\) "lxc"; valid values: .*docker-host-volume/ },
  { args: ["--environments", "native,,docker"], says: /--environments "native,,docker": a comma-separated list without empty items/ },
  { args: ["--workloads", "xz,netperf"], says: /--workloads: unknown workload "netperf"; valid values: xz, linpack/ },
  { args: ["--profile", "huge"], says: /--profile: unknown profile "huge"; valid values: smoke, quick, full/ },
  { args: ["--results-root", "/tmp/a b"], says: /--results-root "\/tmp\/a b": must be a path/ },
  { args: ["--stack", "Bad_Stack"], says: /--stack "Bad_Stack": must be lowercase letters/ },
  { args: ["--config", "/nonexistent/Pulumi.x.yaml"], says: /cannot read stack file \/nonexistent\/Pulumi\.x\.yaml/ },
  { args: ["--bogus"], says: /unknown option '--bogus'/ },
];

async function refuses(cmd: string, args: string[], says: RegExp): Promise<void> {
  const r = await execa(cmd, args, { reject: false, timeout: LIMIT_MS });
  assert.equal(r.timedOut, false, "hung");
  assert.equal(r.exitCode, 2, r.stderr);
  assert.match(r.stderr, says);
  assert.equal(r.stderr.trim().split("\n").filter((l) => !l.startsWith("  try:") && !/^\(Did you mean/.test(l)).length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "stack trace printed");
  assert.equal(r.stdout, "");
}

describe("virtperf trial refuses bad input with one clear line", () => {
  for (const c of trialCases) {
    it(c.args.join(" ").slice(0, 120), () => refuses("bin/virtperf", ["trial", ...c.args], c.says));
  }
});

describe("virtperf e2e refuses bad input with one clear line, before anything runs", () => {
  for (const c of e2eCases) it(c.args.join(" "), () => refuses("bin/virtperf", ["e2e", ...c.args], c.says));
});

describe("npm run e2e (cli/e2e.ts) refuses the same way", () => {
  for (const c of e2eCases.filter((_, i) => i % 3 === 0)) {
    it(c.args.join(" "), () => refuses("bin/node22", ["--import", "tsx", "cli/e2e.ts", ...c.args], c.says));
  }
});
