/**
 * Small readers of the values in facts files (model/facts.ts types them; the shell that writes them may
 * still print null, a number as text, or "unknown"): each returns undefined for anything unexpected,
 * never throws and never invents a value.
 */

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
