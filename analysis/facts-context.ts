/**
 * Aspects from the records themselves (issue 9): what each trial shell really ran with (`context.env`,
 * workloads/runner/parity.ts CONTEXT_PROBE: the declared process environment, limits, niceness, CPUs
 * allowed, /dev/shm, THP, the BLAS library and the OpenBLAS kernel it picks) and the tool binaries
 * (version and sha256 where they ran). One value per environment; when its trials disagree, the value
 * says so and how many trials had each. Records without the field (older ones) say nothing.
 */
import type { LocatedRecord } from "./load.ts";
import type { TrialRecord } from "../model/record.ts";
import type { Aspects } from "./facts.ts";
import { mib, num } from "./facts-json.ts";

type ContextFacts = NonNullable<TrialRecord["context"]>["env"];
type ContextKey = "processEnv" | "limits" | "nice" | "cpusAllowed" | "shm" | "thp" | "blas";

/** "/usr/lib/.../libblas.so.3 core=Haswell" -> "OpenBLAS core Haswell (/usr/lib/.../libblas.so.3)". */
export function blasText(blas: string): string {
  if (blas.trim() === "") return "no libblas.so.3 found";
  const m = /^(\S+)\s+core=(.*)$/.exec(blas.trim());
  if (!m) return blas.trim();
  return m[2]!.trim() ? `OpenBLAS core ${m[2]!.trim()} (${m[1]})` : `${m[1]} (no OpenBLAS core reported: not OpenBLAS?)`;
}

/** Each aspect: the context field it reads and its text. */
const TEXT: Record<ContextKey, readonly [keyof ContextFacts, (v: string) => string]> = {
  processEnv: ["env", (v) => v.trim() || "empty"],
  limits: ["limits", (v) => v.trim() || "unknown"],
  nice: ["nice", (v) => v.trim() || "unknown"],
  cpusAllowed: ["cpus", (v) => v.trim() || "unknown"],
  shm: ["shm", (v) => { const b = num(v); return b === undefined ? "no /dev/shm" : mib(b); }],
  thp: ["thp", (v) => v.trim() || "not exposed"],
  blas: ["blas", blasText],
};

/** One value, or "differs between trials: a (4 trials); b (2 trials)". */
function agreed(counts: ReadonlyMap<string, number>): string | undefined {
  if (counts.size === 0) return undefined;
  if (counts.size === 1) return [...counts.keys()][0];
  return `differs between trials: ${[...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} (${n} trial${n === 1 ? "" : "s"})`).join("; ")}`;
}

function tally<T>(items: readonly T[], value: (t: T) => string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of items) { const v = value(t); if (v !== undefined) out.set(v, (out.get(v) ?? 0) + 1); }
  return out;
}

/** The trial shells' context, environment side, of one environment's records. */
export function contextAspects(mine: readonly LocatedRecord[]): Aspects {
  const out: Aspects = {};
  const withContext = mine.filter((r) => r.record.context);
  if (withContext.length === 0) return out;
  for (const key of Object.keys(TEXT) as ContextKey[]) {
    const [field, text] = TEXT[key];
    // Tallied raw, then put in words: a run has few distinct values and many trials.
    const texts = new Map<string, number>();
    for (const [raw, n] of tally(withContext, (r) => r.record.context!.env[field])) texts.set(text(raw), (texts.get(text(raw)) ?? 0) + n);
    const v = agreed(texts);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** "xz (XZ Utils) 5.4.1" rather than "xz xz (XZ Utils) 5.4.1" when the version already names the tool. */
function toolText(tool: { name: string; version: string }): string {
  return tool.version.toLowerCase().includes(tool.name.toLowerCase()) ? tool.version : `${tool.name} ${tool.version}`;
}

/** Tool binaries: "fio-3.33 sha256:0123456789ab; xz (XZ Utils) 5.4.1", checksums that disagree between trials said so. */
export function toolsAspect(mine: readonly LocatedRecord[]): string | undefined {
  const byTool = new Map<string, Map<string, number>>();
  for (const r of mine) {
    const text = toolText(r.record.tool);
    const shas = byTool.get(text) ?? new Map<string, number>();
    byTool.set(text, shas);
    if (r.record.tool.sha256) shas.set(r.record.tool.sha256.slice(0, 12), (shas.get(r.record.tool.sha256.slice(0, 12)) ?? 0) + 1);
  }
  if (byTool.size === 0) return undefined;
  return [...byTool].sort(([a], [b]) => a.localeCompare(b)).map(([text, shas]) => {
    if (shas.size === 0) return text;
    if (shas.size === 1) return `${text} sha256:${[...shas.keys()][0]}`;
    return `${text} sha256 ${agreed(shas)}`;
  }).join("; ");
}

/**
 * The process environment where it differs between environments: each one's variables beyond those
 * all share ("5 shared + OPENBLAS_CORETYPE=Haswell"), and the shared ones for the "same in all" list.
 */
export function processEnvDelta(values: ReadonlyMap<string, string>): { values: Map<string, string>; shared: string | undefined } {
  const sets = new Map([...values].map(([env, v]) => [env, v.startsWith("differs between trials") || v === "unknown" ? null : new Set(v.split(/\s+/).filter(Boolean))] as const));
  const known = [...sets.values()].filter((s): s is Set<string> => s !== null);
  if (known.length < 2) return { values: new Map(values), shared: undefined };
  const shared = [...known[0]!].filter((t) => known.every((s) => s.has(t)));
  const out = new Map<string, string>();
  for (const [env, v] of values) {
    const set = sets.get(env);
    if (!set) { out.set(env, v); continue; }
    const extra = [...set].filter((t) => !shared.includes(t));
    out.set(env, `${shared.length} shared${extra.length ? ` + ${extra.join(" ")}` : " only"}`);
  }
  return { values: out, shared: shared.length ? shared.join(" ") : undefined };
}
