/**
 * What differs, for rootless Podman: the report reads a real run's facts (podman-rootless beside docker
 * and native, cgroup v1 here) with the podman schema, and says how the CPU set and memory were applied,
 * the rootless network and its relay, and the storage, each different from Docker's; the records carry
 * docker as podman-rootless's reference.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { compareAspects, environmentAspects } from "../../../analysis/facts.ts";
import { podmanAspects } from "../../../analysis/facts-podman.ts";
import { readRunFacts } from "../../../analysis/load.ts";
import { parseFacts } from "../../../model/facts.ts";
import { parseTrialsText } from "../../../model/record.ts";

const REAL = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/records/real-podman-smoke-2026-12-01");
const records = parseTrialsText(readFileSync(join(REAL, "trials.jsonl"), "utf8"), "trials.jsonl").records;
const facts = readRunFacts(REAL)!;
const podman = JSON.parse(readFileSync(join(REAL, "facts", "podman-rootless.json"), "utf8"));

describe("podman-rootless's aspects from the real run's facts", () => {
  const a = environmentAspects("podman-rootless", facts, records);

  it("the facts file fits the podman schema", () => assert.equal(parseFacts("podman", podman).problem, undefined));

  const cases: [keyof typeof a, string, string[]][] = [
    ["cpuset", `${podman.inside.cpusAllowed} (`, ["host cgroup v1 cpuset joined by the trials", "rootless Podman sets none"]],
    ["memory", `${podman.inside.memoryLimit / 2 ** 20} MiB (`, ["host cgroup v1 limit", "no swap"]],
    ["network", "rootless Podman network (slirp4netns), ", ["4 ports (tcp+udp) published on 127.0.0.1", "via rootlessport (a userland relay)"]],
    ["storage", "container filesystem (overlay, the kernel's, in a user namespace)", []],
    ["kernel", podman.engine.kernel, []],
    ["acceleration", "none", []],
  ];
  for (const [key, starts, includes] of cases) {
    it(key, () => {
      const v = a[key];
      assert.ok(v, `podman-rootless has a ${key}`);
      assert.ok(v.startsWith(starts), `${v} starts with ${starts}`);
      for (const s of includes) assert.ok(v.includes(s), `${v} includes ${s}`);
    });
  }

  it("against docker: CPU set, memory, network and storage differ (mechanism, path, driver); kernel and tools are the same", () => {
    const byEnv = new Map(["docker", "podman-rootless"].map((e) => [e, environmentAspects(e, facts, records)] as const));
    const { differing, same } = compareAspects(byEnv);
    assert.deepEqual(differing.map((d) => d.key).filter((k) => ["cpuset", "memory", "network", "storage"].includes(k)), ["cpuset", "memory", "network", "storage"]);
    for (const k of ["kernel", "cpuModel", "processEnv", "cpusAllowed"] as const) assert.ok(same.some((s) => s.key === k), `${k} is the same`);
  });

  it("the other modes: Podman's own flags (cgroup v2, delegated), and taskset with no memory limit", () => {
    const v2 = podmanAspects({ ...podman, inspect: { ...podman.inspect, cpusetCpus: "0-1", memoryBytes: 2 ** 31, memorySwapBytes: 2 ** 31 }, limits: { mode: "podman", note: "cgroup v2" } }, undefined);
    assert.equal(v2.cpuset, "0-1 (podman --cpuset-cpus)");
    assert.equal(v2.memory, "2048 MiB (podman --memory, no swap)");
    const ts = podmanAspects({ ...podman, inside: { ...podman.inside, memoryLimit: "9223372036854771712" }, limits: { mode: "taskset", note: "taskset" } }, undefined);
    assert.equal(ts.cpuset, "0-1 (taskset, no cgroup)");
    assert.equal(ts.memory, "unlimited (taskset sets no memory limit)");
  });

  it("its records name docker as the reference, and only its", () => {
    const refs = new Set(records.map((r) => `${r.record.environment}:${JSON.stringify(r.record.references ?? [])}`));
    assert.deepEqual([...refs].sort(), ["docker:[]", "native:[]", 'podman-rootless:["docker"]']);
  });
});
