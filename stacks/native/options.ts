/** Native's options and preset: the host itself, nothing to choose (its CPU set and memory are the stack's). */
import { z } from "zod";

export interface NativeOptions {
  readonly kind: "native";
}

export const NATIVE_PRESETS = { native: { kind: "native" } } as const satisfies Record<string, NativeOptions>;

export const nativeOptionsSchema = z.object({});
