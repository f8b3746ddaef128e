/**
 * The pre-flight vocabulary every kind's checks speak (stacks/<kind>/preflight.ts) and checks.ts
 * gathers: a check's result, the host's observations, a tool the host needs. Pure, and importing no kind.
 */
import type { EnvironmentDef, Experiment } from "../experiment.ts";
import type { KindName } from "../../model/kinds.ts";

/** skip: not run, because an earlier check it builds on failed. */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/**
 * One check: `fail` when a run would break on it (nothing is created then), `warn` when the run goes on
 * but measures something other than asked (TCG instead of KVM, native without a memory limit), `ok`.
 */
export interface Check {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
  /** Environments that need it ("host" for the run itself). */
  readonly for: readonly string[];
}

/** What observe.sh and the kinds' observation functions printed, `<key>=<value>`. */
export type Observations = ReadonlyMap<string, string>;

/** `<key>=<value>` lines -> map (later lines win; other lines ignored). */
export function parseObservations(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z][\w.:-]*)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** A command the host must have: the Debian package that brings it, and a probe proving it runs. */
export interface ToolNeed {
  readonly command: string;
  readonly package: string;
  readonly probe?: string;
}

/** Bytes some environments need on one disk (ioDir, scratchDir, dockerRoot), and what for. */
export interface DiskNeed {
  readonly label: string;
  readonly bytes: number;
  readonly for: readonly string[];
  readonly what: string;
}

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export const fmtBytes = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${Math.round(b / MiB)} MiB`);

/** The names of the experiment's environments of one kind. */
export function namesOf(x: Experiment, kind: KindName): string[] {
  return x.environments.filter((e) => e.options.kind === kind).map((e) => e.name);
}

export type Envs = readonly EnvironmentDef[];
