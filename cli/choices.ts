/**
 * Checking a CLI value against what is allowed, with a one-line ConfigError that names the flag, the
 * value and what is allowed (the CLI prints it and exits 2). Numbers are whole decimal numbers only:
 * "abc", "", "1e3", "0x10" and " 5" are refused, never read as 0 or something else.
 */
import { ConfigError } from "../lib/errors.ts";
import { nameProblem, pathProblem } from "../lib/validate.ts";

/** `what`: the noun in the message ("unknown <what> ..."); default the flag's name. */
export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[], what = option.replace(/^--/, "")): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(option, `${option}: unknown ${what} ${JSON.stringify(value)}; valid values: ${allowed.join(", ")}`);
}

/** A whole number in min..max (decimal digits only). */
export function intInRange(option: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(option, `${option} must be a whole number ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function nonNegativeInt(option: string, value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new ConfigError(option, `${option} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  return n;
}

export function positiveInt(option: string, value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(option, `${option} must be a whole number >= 1, got ${JSON.stringify(value)}`);
  return n;
}

/** Schedule seeds: 0..2^32-1, as the stack's virtperf:seed. */
export const MAX_SEED = 2 ** 32 - 1;

/** "21000,21001": TCP/UDP ports 1..65535, comma separated. */
export function portList(option: string, value: string): number[] {
  const words = value.split(",");
  const bad = words.find((w) => !/^\d+$/.test(w) || Number(w) < 1 || Number(w) > 65535);
  if (bad !== undefined) throw new ConfigError(option, `${option} must be ports 1..65535, comma separated; ${JSON.stringify(bad)} is not one`);
  return words.map(Number);
}

export function pathOption(option: string, value: string, relative = false): string {
  const p = pathProblem(value, { relative });
  if (p) throw new ConfigError(option, `${option} ${JSON.stringify(value)}: must be ${p}`);
  return value;
}

export function nameOption(option: string, value: string): string {
  const p = nameProblem(value);
  if (p) throw new ConfigError(option, `${option} ${JSON.stringify(value)}: must be ${p}`);
  return value;
}

export function jsonOption<T>(option: string, value: string): T {
  try {
    return JSON.parse(value) as T;
  } catch (e) {
    throw new ConfigError(option, `${option} is not valid JSON: ${(e as Error).message}`);
  }
}
