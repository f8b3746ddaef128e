/**
 * Bad input to every verb: one line naming the flag (or value) and what is allowed, exit code 2, no stack
 * trace, nothing on stdout, and never a hang (each run has a time limit). `virtperf trial`, `virtperf e2e`
 * and `npm run e2e` (cli/e2e.ts run directly).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";

const LIMIT_MS = 60_000;

const trialCases: { args: string[]; says: RegExp }[] = [
  { args: ["--workload", "nope"], says: /unknown workload "nope"; valid values: xz, linpack, stream, randomaccess, nuttcp, rr, fio, redis, mysql/ },
  { args: ["--workload", "xz", "--profile", "huge"], says: /unknown profile "huge"; valid values: smoke, quick, full/ },
  { args: ["--workload", "xz", "--env", "docker"], says: /environment "docker" needs --target.*valid value is: native/ },
  { args: ["--workload", "xz", "--target", "{\"kind\":\"telnet\"}"], says: /unknown target kind "telnet"; valid values: local, ssh, docker, guest/ },
  { args: ["--workload", "xz", "--rep", "-1"], says: /--rep must be a whole number >= 0, got "-1"/ },
  { args: ["--workload", "xz", "--rep", "x"], says: /--rep must be a whole number >= 0, got "x"/ },
  { args: ["--workload", "xz", "--order", "1.5"], says: /--order must be a whole number >= 0, got "1.5"/ },
  { args: ["--workload", "xz", "--seed", "abc"], says: /--seed must be a whole number 0\.\.4294967295, got "abc"/ },
  { args: ["--workload", "xz", "--seed", ""], says: /--seed must be a whole number 0\.\.4294967295, got ""/ },
  { args: ["--workload", "xz", "--seed", "1e3"], says: /--seed must be a whole number 0\.\.4294967295, got "1e3"/ },
  { args: ["--workload", "xz", "--seed", "4294967296"], says: /--seed must be a whole number 0\.\.4294967295/ },
  { args: ["--workload", "xz", "--ports", "70000"], says: /--ports must be ports 1\.\.65535, comma separated; "70000" is not one/ },
  { args: ["--workload", "xz", "--ports", "21000,x"], says: /--ports must be ports 1\.\.65535, comma separated; "x" is not one/ },
  { args: ["--workload", "xz", "--ports", "0"], says: /--ports must be ports 1\.\.65535/ },
  { args: ["--workload", "xz", "--cpus", "0"], says: /--cpus must be a whole number >= 1, got "0"/ },
  { args: ["--workload", "xz", "--memory-mib", "lots"], says: /--memory-mib must be a whole number >= 1, got "lots"/ },
  { args: ["--workload", "xz", "--kind", "vm"], says: /unknown kind "vm"; valid values: native, docker, kvm/ },
  { args: ["--workload", "xz", "--acceleration", "hvf"], says: /unknown acceleration "hvf"; valid values: none, kvm, tcg/ },
  { args: ["--workload", "xz", "--target", "{bad"], says: /--target is not valid JSON/ },
  { args: ["--workload", "xz", "--client", "[1,2"], says: /--client is not valid JSON/ },
  { args: ["--workload", "xz", "--client", "{\"kind\":\"ssh\",\"host\":\"c\"}"], says: /--client: "user" is required for kind ssh/ },
  { args: ["--workload", "xz", "--target", "{\"kind\":\"ssh\",\"host\":\"h\",\"user\":\"-oProxyCommand=x\"}"], says: /--target: "user" must be a user name/ },
  { args: ["--workload", "xz", "--target", "{\"kind\":\"local\",\"extra\":1}"], says: /--target: unknown field "extra" for kind local/ },
  { args: ["--workload", "xz", "--env", "a b"], says: /--env "a b": must be a name of letters/ },
  { args: ["--workload", "xz", "--data-dir", "data"], says: /--data-dir "data": must be an absolute path/ },
  { args: ["--workload", "xz", "--work-root", "/tmp/$(id)"], says: /--work-root "\/tmp\/\$\(id\)": must be an absolute path/ },
  { args: ["--workload", "xz", "--out", "-rf"], says: /--out "-rf": must be a path/ },
  { args: ["--workload", "xz", "--bogus"], says: /unknown option '--bogus'/ },
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
    it(c.args.join(" "), () => refuses("bin/virtperf", ["trial", ...(c.args.includes("--env") ? [] : ["--env", "native"]), ...c.args], c.says));
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
