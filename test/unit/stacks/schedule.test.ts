import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildSchedule, mulberry32, shuffle } from "../../../stacks/schedule.ts";
import type { WorkloadId } from "../../../workloads/contract.ts";

const input = {
  environments: ["native", "docker", "kvm"],
  workloads: ["xz", "fio", "redis"] as WorkloadId[],
  repetitions: 3,
  seed: 42,
  needsWarmup: (w: WorkloadId) => w === "redis",
};

describe("buildSchedule", () => {
  const s = buildSchedule(input);
  const measured = s.entries.filter((e) => !e.warmup);

  it("has every (environment, workload, rep) exactly once, plus one warm-up per pair that needs it", () => {
    const keys = measured.map((e) => `${e.environment}/${e.workload}/${e.rep}`);
    assert.equal(new Set(keys).size, 3 * 3 * 3);
    assert.equal(keys.length, 27);
    const warm = s.entries.filter((e) => e.warmup);
    assert.deepEqual(warm.map((e) => `${e.environment}/${e.workload}/${e.rep}`).sort(), ["docker/redis/0", "kvm/redis/0", "native/redis/0"]);
  });

  it("orders are 0..n-1 in sequence", () => {
    assert.deepEqual(s.entries.map((e) => e.order), s.entries.map((_, i) => i));
  });

  it("interleaves: every k-th repetition comes before any (k+1)-th", () => {
    for (let i = 1; i < measured.length; i++) assert.ok(measured[i]!.rep >= measured[i - 1]!.rep, `rep went back at ${i}`);
  });

  it("runs a warm-up right before its pair's first measured trial", () => {
    s.entries.forEach((e, i) => {
      if (!e.warmup) return;
      const next = s.entries[i + 1]!;
      assert.deepEqual([next.environment, next.workload, next.rep, next.warmup], [e.environment, e.workload, 1, false]);
    });
  });

  it("is the same for the same seed, different for another", () => {
    assert.deepEqual(buildSchedule(input), s);
    assert.notDeepEqual(buildSchedule({ ...input, seed: 43 }).entries, s.entries);
  });

  it("randomizes each round separately (rounds are not all the same permutation)", () => {
    const round = (k: number) => measured.filter((e) => e.rep === k).map((e) => `${e.environment}/${e.workload}`).join(" ");
    assert.ok(round(1) !== round(2) || round(2) !== round(3));
  });
});

describe("mulberry32 and shuffle", () => {
  it("gives numbers in [0, 1), reproducibly", () => {
    const a = mulberry32(7), b = mulberry32(7);
    for (let i = 0; i < 100; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
    }
  });
  it("shuffle is a permutation", () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const out = shuffle(items, mulberry32(1));
    assert.deepEqual([...out].sort((p, q) => p - q), items);
    assert.notDeepEqual(out, items);
  });
});
