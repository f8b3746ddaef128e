/**
 * Metric groups come from each workload's own `group` (workloads/<id>/index.ts), so report sections and
 * equivalence margins follow the workload registry, never a list kept here. This file only names the
 * groups and gives each a default margin.
 */
import { WORKLOADS } from "../workloads/registry.ts";
import { WORKLOAD_IDS, type Workload } from "../workloads/contract.ts";

export type Group = Workload["group"];

/** Section titles, in the order the study presents them (typed: a new group fails to compile until named). */
export const GROUP_TITLES: Readonly<Record<Group, string>> = {
  cpu: "CPU",
  memory: "Memory",
  network: "Network",
  io: "Block I/O",
  application: "Applications",
};

export const GROUPS = Object.keys(GROUP_TITLES) as Group[];

/**
 * Default equivalence margins (a relative difference): the study's CPU and memory claims are "within
 * 2 %"; network, storage and application numbers vary more from trial to trial, so 5 %.
 * A stack or `virtperf report --margin group=percent` overrides them.
 */
export const DEFAULT_MARGINS: Readonly<Record<Group, number>> = { cpu: 0.02, memory: 0.02, network: 0.05, io: 0.05, application: 0.05 };

/** The group of a workload id; "application" for an id the registry does not know. */
export function groupOf(workload: string): Group {
  return (WORKLOAD_IDS as readonly string[]).includes(workload) ? WORKLOADS[workload as keyof typeof WORKLOADS].group : "application";
}

/** Margins with overrides applied; throws RangeError naming an unknown group or a bad value. */
export function resolveMargins(overrides: Readonly<Record<string, number>> = {}): Record<Group, number> {
  const out = { ...DEFAULT_MARGINS };
  for (const [g, m] of Object.entries(overrides)) {
    if (!(GROUPS as string[]).includes(g)) throw new RangeError(`unknown metric group "${g}"; groups: ${GROUPS.join(", ")}`);
    if (!(m > 0 && m < 1)) throw new RangeError(`margin of ${g} must be between 0 and 100 %, got ${m * 100} %`);
    out[g as Group] = m;
  }
  return out;
}
