/**
 * The first look at the host: online CPUs, memory and SMT width, which config validation needs (read here,
 * in-process; no commands). Whether KVM works is proven later by the pre-flight (stacks/preflight/), once
 * the experiment is known. Tests inject a probe with VIRTPERF_HOST_PROBE (JSON of a BasicProbe), so mock
 * runs are deterministic and never look at this machine.
 */
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { ConfigError } from "../lib/errors.ts";
import { parseCpuset } from "../lib/cpuset.ts";
import type { HostProbe } from "./plan.ts";

/** The host probe before the KVM proof. */
export type BasicProbe = Omit<HostProbe, "kvm">;

export const PROBE_ENV = "VIRTPERF_HOST_PROBE";

function onlineCpus(): number[] {
  try {
    return parseCpuset(readFileSync("/sys/devices/system/cpu/online", "utf8").trim());
  } catch {
    return cpus().map((_, i) => i);
  }
}

function threadsPerCore(): number {
  try {
    const siblings = readFileSync("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "utf8").trim();
    return parseCpuset(siblings).length;
  } catch {
    return 1;
  }
}

/**
 * The local host's probe (or the injected one). A remote host (SSH address) is not probed here: its
 * stack must say `cpuset` and `memoryMiB` and they are checked on the host when environments come up.
 */
export function probeHost(env: NodeJS.ProcessEnv = process.env): BasicProbe {
  const injected = env[PROBE_ENV];
  if (injected) {
    try {
      return JSON.parse(injected) as BasicProbe;
    } catch (e) {
      throw new ConfigError(PROBE_ENV, `${PROBE_ENV} is not valid JSON: ${(e as Error).message}`);
    }
  }
  return { cpus: onlineCpus(), memoryMiB: Math.floor(totalmem() / 2 ** 20), threadsPerCore: threadsPerCore() };
}
