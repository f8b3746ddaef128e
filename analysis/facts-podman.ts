/**
 * Aspects of a rootless Podman environment, read from its facts (model/facts.ts podmanFactsSchema):
 * `inspect` and `engine` (what Podman gave and what it is), `limits` (how the CPU set and memory were
 * applied: Podman's own flags, host cgroup v1 groups the trials join, or taskset alone) and `inside`, what
 * a process in the container sees through the trial's path.
 */
import type { NativeFacts, PodmanFacts } from "../model/facts.ts";
import type { Aspects } from "./facts.ts";
import { publishedPorts } from "./facts-host.ts";
import { memoryLimitText, mib, num, str, withDetails } from "./facts-json.ts";

/** How the limits reached the container, per the state file's mode. */
const MECHANISM: Record<string, { cpuset: string; memory: string }> = {
  podman: { cpuset: "podman --cpuset-cpus", memory: "podman --memory" },
  cgroup1: { cpuset: "host cgroup v1 cpuset joined by the trials: rootless Podman sets none", memory: "host cgroup v1 limit joined by the trials: rootless Podman sets none" },
  taskset: { cpuset: "taskset, no cgroup", memory: "taskset sets no memory limit" },
};

function podmanCpuset(f: PodmanFacts, mode: string | undefined): string | undefined {
  const seen = str(f.inside?.cpusAllowed) ?? str(f.inspect?.cpusetCpus);
  return seen ? withDetails(seen, [mode ? (MECHANISM[mode]?.cpuset ?? mode) : undefined]) : undefined;
}

function podmanMemory(f: PodmanFacts, mode: string | undefined): string | undefined {
  const bytes = num(f.inspect?.memoryBytes);
  if (mode === "podman" && bytes) return withDetails(mib(bytes), ["podman --memory", num(f.inspect?.memorySwapBytes) === bytes ? "no swap" : undefined]);
  const limit = memoryLimitText(f.inside?.memoryLimit);
  if (!limit) return undefined;
  const swapCapped = /swap capped/.test(str(f.limits?.note) ?? "");
  return withDetails(limit, [mode ? (MECHANISM[mode]?.memory ?? mode) : undefined, limit !== "unlimited" && swapCapped ? "no swap" : undefined]);
}

function podmanNetwork(f: PodmanFacts): string | undefined {
  const mode = str(f.inspect?.networkMode);
  if (!mode) return undefined;
  const path = str(f.portPath);
  const relay = path && /rootlessport/.test(path) ? "via rootlessport (a userland relay)" : path ? `port path: ${path}` : undefined;
  const head = mode === "slirp4netns" ? "rootless Podman network (slirp4netns)" : `Podman network mode '${mode}'`;
  return [head, publishedPorts(f.inspect?.portBindings), relay].filter((p) => !!p).join(", ");
}

function podmanStorage(f: PodmanFacts): string | undefined {
  const driver = str(f.inspect?.storageDriver) ?? str(f.engine?.storageDriver);
  const fs = str(f.inside?.dataFs);
  const how = fs && /fuse/.test(fs) ? "fuse-overlayfs" : fs && /^overlay\b/.test(fs) ? "the kernel's, in a user namespace" : fs ? `data on ${fs}` : undefined;
  if (!driver && !how) return undefined;
  return `container filesystem (${[driver ?? "unknown driver", how].filter((p) => !!p).join(", ")})`;
}

/** A rootless container shares the host's kernel and CPU: those come from `podman info` or host.json. */
export function podmanAspects(f: PodmanFacts, host: NativeFacts | undefined): Aspects {
  const out: Aspects = {};
  const set = (key: keyof Aspects, v: string | undefined) => { if (v) out[key] = v; };
  const mode = str(f.limits?.mode);
  set("cpuset", podmanCpuset(f, mode));
  set("memory", podmanMemory(f, mode));
  set("network", podmanNetwork(f));
  set("storage", podmanStorage(f));
  set("kernel", str(f.engine?.kernel) ?? str(host?.kernel));
  set("cpuModel", str(host?.cpuModel));
  return out;
}
