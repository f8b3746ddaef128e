/**
 * Lint: no pipeline whose status depends on a reader that exits early (issue 8).
 *
 * Under `set -o pipefail` a pipeline's status is the last non-zero one. A reader that stops reading
 * before its writer is done (`grep -q`, `grep -m`, `head`, `awk '{...; exit}'`, `sed ...q`) makes the
 * writer die of SIGPIPE (141) whenever the writer is still writing: `virsh net-info default | grep -q
 * '^Active: no'` returned 141 on a host whose network was inactive, the `if` was false, and the network
 * was never started. The fix is always the same: let the reader read everything (`grep ... >/dev/null`,
 * `sed -n 1p`, `awk 'c++ == 0'`), or capture the output first and test the variable.
 *
 * Checked: every bash file of the project and every TypeScript source that writes bash (scripts of the
 * planner, the environments, the workloads and the runner), outside tests.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SOURCE_DIRS = ["scripts", "stacks", "workloads", "lib", "cli", "bin", ".ci"];
const SOURCE_FILES = ["index.ts"];

/** One stage after a single `|` (not `||`) whose reader can stop before its input ends. */
const EARLY_READER = new RegExp(
  String.raw`(?<![|])\|(?![|])\s*(?:` +
    [
      String.raw`grep\b[^|;&]*?\s-[a-zA-Z]*[qm]`, // grep -q, -Eq, -qv, -m1
      String.raw`grep\b[^|;&]*?\s--(?:quiet|silent|max-count)`,
      String.raw`head\b`,
      String.raw`awk\b[^|]*\bexit\b`,
      String.raw`sed\b[^|]*(?:^|[;'"\s{0-9/])q(?:\s*\d*)?['";}]`, // sed '1q', sed -n '/x/{p;q}'
    ].join("|") +
    ")",
);

export function findEarlyReaders(text: string): { line: number; text: string }[] {
  return text.split("\n").flatMap((l, i) => (EARLY_READER.test(l) ? [{ line: i + 1, text: l.trim() }] : []));
}

function sources(): string[] {
  const out: string[] = SOURCE_FILES.map((f) => join(ROOT, f));
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name === "node_modules") continue;
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  return out.filter((f) => /\.(ts|sh)$/.test(f) || !/\.[a-z]+$/.test(f.split("/").pop()!));
}

describe("no early-exiting pipeline readers (pipefail + SIGPIPE)", () => {

  const bad: [string, string][] = [
    ["virsh net-info default | grep -Eq '^Active:\\s+no'", "grep -Eq"],
    ["dpkg -s x | grep -q installed", "grep -q"],
    ["ps -o stat= | grep -qv '^Z'", "grep -qv"],
    ["lscpu | sed -n 's/x//p' | head -n1", "head"],
    ["ldconfig -p | awk '/libblas/{print $NF; exit}'", "awk exit"],
    ["seq 10 | sed -n '1p;1q'", "sed q"],
    ["grep -c x f | grep -m1 y", "grep -m1"],
    ["cmd | grep --quiet y", "grep --quiet"],
  ];
  for (const [line, what] of bad) {
    it(`finds ${what}: ${line}`, () => assert.equal(findEarlyReaders(line).length, 1));
  }
  const good = [
    "virsh net-info default | grep -E '^Active:\\s+no' >/dev/null",
    "a || grep -q x file",
    "grep -qs ' hugetlbfs ' /proc/mounts",
    "lscpu | sed -n 's/x//p' | sed -n 1p",
    "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-",
    "ldconfig -p | awk '/libblas/ && !n++ {print $NF}'",
    "sed -n 's/^Active:[[:space:]]*//p' <<<\"$info\"",
  ];
  for (const line of good) {
    it(`passes: ${line}`, () => assert.deepEqual(findEarlyReaders(line), []));
  }

  it("the project's bash has none", () => {
    const found = sources().flatMap((f) =>
      findEarlyReaders(readFileSync(f, "utf8")).map((h) => `${relative(ROOT, f)}:${h.line}: ${h.text}`));
    assert.deepEqual(found, [], `pipelines whose reader can exit early (SIGPIPE under pipefail):\n${found.join("\n")}`);
  });
});
