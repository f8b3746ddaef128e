/**
 * What the planner needs to know about the host that runs the environments: online CPUs, memory, KVM.
 * The Pulumi program and e2e call `probeHost()`; tests inject a probe with VIRTPERF_HOST_PROBE (JSON of
 * a HostProbe), so mock runs are deterministic and never look at this machine.
 */
import { accessSync, constants, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { ConfigError } from "../lib/errors.ts";
import { parseCpuset } from "./config.ts";
import type { HostProbe } from "./plan.ts";

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

function kvmUsable(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The local host's probe (or the injected one). A remote host (SSH address) is not probed here: its
 * stack must say `cpuset` and `memoryMiB` and they are checked on the host when environments come up.
 */
export function probeHost(env: NodeJS.ProcessEnv = process.env): HostProbe {
  const injected = env[PROBE_ENV];
  if (injected) {
    try {
      return JSON.parse(injected) as HostProbe;
    } catch (e) {
      throw new ConfigError(PROBE_ENV, `${PROBE_ENV} is not valid JSON: ${(e as Error).message}`);
    }
  }
  return { cpus: onlineCpus(), memoryMiB: Math.floor(totalmem() / 2 ** 20), kvmUsable: kvmUsable(), threadsPerCore: threadsPerCore() };
}
