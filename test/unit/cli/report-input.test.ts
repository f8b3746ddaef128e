/**
 * Bad input to `virtperf report`: one line naming the file or flag and what is allowed, a non-zero exit,
 * no stack trace, never a hang; one bad input among good ones is reported and the rest is used.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

const FIX = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/records");
const LAB = join(FIX, "generated-lab");
const dir = mkdtempSync(join(tmpdir(), "virtperf-report-input-"));
const at = (...p: string[]) => join(dir, ...p);

before(() => {
  mkdirSync(at("run-dir", "trials.jsonl"), { recursive: true });
  execFileSync("mkfifo", [at("fifo.jsonl")]);
  writeFileSync(at("ansi.jsonl"), "\u001b[31m\u001b[2J{evil\n");
  writeFileSync(at("a-file"), "x");
  mkdirSync(at("fifo-out"));
  execFileSync("mkfifo", [at("fifo-out", "report.md")]);
  cpSync(LAB, at("lab"), { recursive: true });
  const records = readFileSync(join(LAB, "trials.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as unknown);
  writeFileSync(at("outputs.json"), JSON.stringify({ records, runId: "lab-r1", resultsDir: LAB, seed: 12, counts: { ok: 53, failed: 1, pending: 0 }, ok: 53, failed: 1, pending: 0 }));
});

const cases: { name: string; args: () => string[]; code: number; says: RegExp }[] = [
  { name: "a directory named trials.jsonl", args: () => [at("run-dir"), "--out", at("o1")], code: 2, says: /run-dir\/trials\.jsonl: is a directory, not a regular file/ },
  { name: "a FIFO as input is never opened", args: () => [at("fifo.jsonl"), "--out", at("o2")], code: 2, says: /fifo\.jsonl: is a FIFO \(named pipe\), not a regular file/ },
  { name: "--out under /proc", args: () => [LAB, "--out", "/proc/x"], code: 2, says: /--out \/proc\/x: cannot create \/proc\/x \(ENOENT\)/ },
  { name: "--out is a file", args: () => [LAB, "--out", at("a-file")], code: 2, says: /--out .*a-file: .*a-file is not a folder/ },
  { name: "an output file that is a FIFO", args: () => [LAB, "--out", at("fifo-out")], code: 2, says: /report\.md exists and is not a regular file; not overwritten/ },
  { name: "control characters of a bad file are made visible", args: () => [at("ansi.jsonl"), "--out", at("o3")], code: 2, says: /ansi\.jsonl:1: not valid JSON/ },
  { name: "a bad --margin", args: () => [LAB, "--out", at("o4"), "--margin", "cpu=200"], code: 2, says: /--margin "cpu=200": expected <group>=<percent> with 0 < percent < 100/ },
  { name: "an unknown --margin group", args: () => [LAB, "--out", at("o5"), "--margin", "gpu=2"], code: 2, says: /unknown metric group "gpu"; groups: cpu, memory, network, io, application/ },
  { name: "one bad input among good ones: reported, the rest used", args: () => [at("ansi.jsonl"), at("lab"), "--out", at("o6")], code: 0, says: /warning: skipped .*ansi\.jsonl:1: not valid JSON/ },
  { name: "pulumi stack output --json (records, runId, resultsDir, counts...)", args: () => [at("outputs.json"), "--out", at("o7")], code: 0, says: /^$/ },
];

describe("virtperf report refuses bad input with one clear line, never hangs", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const r = await execa("bin/virtperf", ["report", ...c.args()], { reject: false, timeout: 30_000 });
      assert.equal(r.timedOut, false, "hung");
      assert.equal(r.exitCode, c.code, r.stderr);
      assert.match(r.stderr, c.says);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "stack trace printed");
      assert.doesNotMatch(r.stderr, /\u001b/, "raw escape sequence echoed");
    });
  }
});
