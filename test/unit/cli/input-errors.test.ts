/** Bad input to the CLI: one line naming the value and the valid ones, exit code 2, no stack trace. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";

const cases = [
  { args: ["--workload", "nope"], says: /unknown workload "nope"; valid values: xz, linpack, stream, randomaccess, nuttcp, rr, fio, redis, mysql/ },
  { args: ["--workload", "xz", "--profile", "huge"], says: /unknown profile "huge"; valid values: smoke, quick, full/ },
  { args: ["--workload", "xz", "--env", "docker"], says: /environment "docker" needs --target.*valid value is: native/ },
  { args: ["--workload", "xz", "--target", "{\"kind\":\"telnet\"}"], says: /unknown target kind "telnet"; valid values: local, ssh, docker, guest/ },
  { args: ["--workload", "xz", "--rep", "-1"], says: /--rep must be a whole number >= 0/ },
];

describe("virtperf trial refuses bad input with one clear line", () => {
  for (const c of cases) {
    it(c.args.join(" "), async () => {
      const args = ["trial", ...(c.args.includes("--env") ? [] : ["--env", "native"]), ...c.args];
      const r = await execa("bin/virtperf", args, { reject: false });
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, c.says);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "stack trace printed");
      assert.equal(r.stdout, "");
    });
  }
});
