/**
 * No connection turns host key checking off (issue 10): no source file, script or doc of the project
 * says StrictHostKeyChecking=no or UserKnownHostsFile=/dev/null (lib/ssh.ts builds every ssh command
 * line, always with StrictHostKeyChecking=yes, or accept-new for a user image's guest).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const FORBIDDEN = [/StrictHostKeyChecking[= ]+(no|off)\b/i, /UserKnownHostsFile[= ]+\/dev\/null/i, /KnownHostsFile[= ]+none/i, /-o\s*CheckHostIP=no/i];

describe("host key checking is never turned off", () => {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { encoding: "utf8" })
    .split("\n").filter((f) => f && !f.startsWith("test/") && /\.(ts|sh|md|yaml|txt)$|^scripts\//.test(f));
  it(`in ${files.length} source files, scripts and docs`, () => {
    assert.ok(files.includes("lib/ssh.ts") && files.includes("scripts/up"));
    const hits = files.flatMap((f) => {
      const text = readFileSync(f, "utf8");
      // GlobalKnownHostsFile=none is the one allowed "none": only the pinned file counts then.
      return FORBIDDEN.filter((re) => re.test(text.replace(/GlobalKnownHostsFile=none/g, ""))).map((re) => `${f}: ${re}`);
    });
    assert.deepEqual(hits, []);
  });
});
