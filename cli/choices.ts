/** Checking a CLI value against the allowed ones, with a one-line error that lists them. */
import { ConfigError } from "../lib/errors.ts";

export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(option, `unknown ${option.replace(/^--/, "")} "${value}"; valid values: ${allowed.join(", ")}`);
}

export function nonNegativeInt(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(option, `${option} must be a whole number >= 0, got "${value}"`);
  return n;
}

export function positiveInt(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(option, `${option} must be a whole number >= 1, got "${value}"`);
  return n;
}

export function jsonOption<T>(option: string, value: string): T {
  try {
    return JSON.parse(value) as T;
  } catch (e) {
    throw new ConfigError(option, `${option} is not valid JSON: ${(e as Error).message}`);
  }
}
