/**
 * `npm run up` (scripts/up) never encrypts the stack's secrets with an empty passphrase: without
 * PULUMI_CONFIG_PASSPHRASE(_FILE), a secrets provider or a terminal for Pulumi's prompt it refuses, saying
 * how, and Pulumi is never started. A fake `pulumi` on PATH logs how it was called; the script runs from a
 * copy in a scratch project, so a stack file there can say `secretsprovider:`.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

const dir = mkdtempSync(join(tmpdir(), "virtperf-up-"));
const calls = join(dir, "pulumi-calls");
before(() => {
  mkdirSync(join(dir, "scripts"));
  mkdirSync(join(dir, "bin"));
  copyFileSync("scripts/up", join(dir, "scripts", "up"));
  writeFileSync(join(dir, "bin", "pulumi"), `#!/bin/bash\necho "pulumi $* passphrase=\${PULUMI_CONFIG_PASSPHRASE-unset}" >> ${calls}\n`);
  chmodSync(join(dir, "bin", "pulumi"), 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cases: { name: string; env?: Record<string, string>; args?: string[]; stackFile?: string; ok: boolean; says?: RegExp; select?: string }[] = [
  { name: "nothing set, no terminal: refused, saying how", ok: false, says: /stack dev has no secrets passphrase[\s\S]*PULUMI_CONFIG_PASSPHRASE_FILE[\s\S]*--secrets-provider[\s\S]*terminal/ },
  { name: "an empty PULUMI_CONFIG_PASSPHRASE: refused", env: { PULUMI_CONFIG_PASSPHRASE: "" }, ok: false, says: /PULUMI_CONFIG_PASSPHRASE is empty/ },
  { name: "a passphrase: up", env: { PULUMI_CONFIG_PASSPHRASE: "s3cret" }, ok: true, select: "stack select dev --create --non-interactive" },
  { name: "a passphrase file: up", env: { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/pp" }, ok: true, select: "stack select dev --create --non-interactive" },
  { name: "--secrets-provider: passed to the new stack", args: ["--stack", "lab", "--secrets-provider", "awskms://alias/vp"], ok: true,
    select: "stack select lab --create --secrets-provider awskms://alias/vp --non-interactive" },
  { name: "a KMS secrets provider in the stack file: up", stackFile: "secretsprovider: gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k\n", ok: true },
  { name: "secretsprovider: passphrase in the stack file still needs a passphrase", stackFile: "secretsprovider: passphrase\n", ok: false, says: /no secrets passphrase/ },
];

describe("scripts/up and the secrets passphrase", () => {
  for (const c of cases) {
    it(c.name, async () => {
      rmSync(calls, { force: true });
      const stackFile = join(dir, "Pulumi.dev.yaml");
      if (c.stackFile) writeFileSync(stackFile, c.stackFile); else rmSync(stackFile, { force: true });
      const env = { PATH: `${join(dir, "bin")}:/usr/bin:/bin`, HOME: dir, PULUMI_BACKEND_URL: `file://${join(dir, "state")}`, ...c.env };
      const r = await execa("bash", [join(dir, "scripts", "up"), ...(c.args ?? [])], { env, extendEnv: false, reject: false, timeout: 20_000 });
      if (!c.ok) {
        assert.equal(r.exitCode, 2, r.stderr);
        assert.match(r.stderr, c.says!);
        assert.equal(existsSync(calls), false, "pulumi was started");
        return;
      }
      assert.equal(r.exitCode, 0, r.stderr);
      const log = readFileSync(calls, "utf8").trim().split("\n");
      assert.equal(log.length, 2);
      if (c.select) assert.match(log[0]!, new RegExp(`^pulumi ${c.select.replace(/[/.]/g, "\\$&")} `));
      assert.match(log[1]!, /^pulumi up --yes --stack \w+ /);
      assert.doesNotMatch(log.join("\n"), /passphrase= /, "never an empty passphrase");
    });
  }
});
