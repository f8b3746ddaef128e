/** scripts/setup installs scripts/host-packages.txt: it must hold every package any workload needs. */
import { it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { allPackages } from "../../../workloads/registry.ts";

it("scripts/host-packages.txt lists every workload package", async () => {
  const listed = new Set((await readFile("scripts/host-packages.txt", "utf8")).split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")));
  const missing = allPackages().filter((p) => !listed.has(p));
  assert.deepEqual(missing, [], `add to scripts/host-packages.txt: ${missing.join(" ")}`);
});
