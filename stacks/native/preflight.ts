/** Native's pre-flight: the host tools its trials need, and cgroups that can give it the stack's CPU set and memory. */
import { readFileSync } from "node:fs";
import { WORKLOADS } from "../../workloads/registry.ts";
import type { KindPreflight } from "../kind.ts";
import { type Check, type Envs, type Observations, type ToolNeed } from "../preflight/check.ts";
import type { Experiment } from "../experiment.ts";

/** The workload commands of one side (env: where the workload runs; client: the network clients) with their probes. */
export function workloadTools(x: Experiment, side: "env" | "client"): ToolNeed[] {
  return x.workloads.flatMap((id) => {
    const w = WORKLOADS[id];
    return w.requires.filter((r) => r.on === side).map((r) => ({
      command: r.command, package: r.package, ...(w.tool.on === side && r.command === w.tool.name ? { probe: w.tool.versionCommand } : {}),
    }));
  });
}

function cgroupCheck(o: Observations, envs: Envs): Check[] {
  const forWhom = envs.map((e) => e.name);
  const v2 = o.get("cgroup.v2.controllers");
  const v2ok = o.get("cgroup.fs") === "cgroup2fs" && !!v2 && /\bcpuset\b/.test(v2) && /\bmemory\b/.test(v2) && o.get("cgroup.v2.subtreeWritable") === "yes";
  const v1ok = o.get("cgroup.v1.cpuset") === "writable" && o.get("cgroup.v1.memory") === "writable";
  const ok = v2ok || v1ok;
  return [{
    id: "cgroups", title: "cgroups for native's CPU set and memory limit", for: forWhom, status: ok ? "ok" : "warn",
    detail: ok ? (v2ok ? "cgroup v2: cpuset and memory controllers delegable" : "cgroup v1: cpuset and memory hierarchies writable")
      : `no writable cpuset+memory cgroups (fs ${o.get("cgroup.fs") ?? "?"}, v2 controllers "${v2 ?? ""}", v1 cpuset ${o.get("cgroup.v1.cpuset") ?? "absent"}, memory ${o.get("cgroup.v1.memory") ?? "absent"}): native gets taskset only and NO memory limit`,
    ...(ok ? {} : { fix: "run as root on a host whose cgroup tree is writable (not inside a container), with the cpuset and memory controllers enabled" }),
  }];
}

export const nativePreflight = {
  tools: [{ command: "taskset", package: "util-linux" }, { command: "setsid", package: "util-linux" }],
  workloadTools: (x: Experiment) => workloadTools(x, "env"),
  library: readFileSync(new URL("./observe.sh", import.meta.url), "utf8"),
  observe: () => ["obs_cgroups"],
  checks: (_x, o, envs) => cgroupCheck(o, envs),
  disk: (_x, _o, envs, data) => [{ label: "ioDir", bytes: data + 256 * 2 ** 20, for: envs.map((e) => e.name), what: "trial data" }],
} satisfies KindPreflight;
