/**
 * Defensive readers for facts files: they are JSON written by shell scripts (stacks/*-spec.ts,
 * stacks/kvm-plan.ts) and may be missing a field, hold null, or come from an older format. Every reader
 * returns undefined for anything unexpected, never throws and never invents a value.
 */

/** The value at `path` under `obj` (object keys or array indices), or undefined. */
export function at(obj: unknown, ...path: (string | number)[]): unknown {
  let node = obj;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** A non-empty string (numbers as text), or undefined. */
export function str(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim() === "" ? undefined : v.trim();
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A finite number, also from a string of digits ("2147483648"), or undefined. */
export function num(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && /^\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

/**
 * A cgroup memory limit as text: cgroup v2 says "max", cgroup v1 says a page-rounded 2^63 when there is
 * none. Undefined when the value is not a limit at all ("unknown", missing).
 */
export function memoryLimitText(v: unknown): string | undefined {
  const s = str(v);
  if (s === "max") return "unlimited";
  const n = num(v);
  if (n === undefined) return undefined;
  // cgroup v1's "no limit" is 2^63 rounded down to the page size; anything beyond 2^60 B is no limit.
  return n >= 2 ** 60 ? "unlimited" : mib(n);
}

/** "a (b, c)" with the empty parts left out. */
export function withDetails(head: string, details: readonly (string | undefined)[]): string {
  const kept = details.filter((d): d is string => !!d);
  return kept.length ? `${head} (${kept.join(", ")})` : head;
}
