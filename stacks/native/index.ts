/**
 * The native kind: the host itself, given the stack's CPU set and memory limit by a cgroup (spec.ts),
 * so it is measured under the same limits as the containers and guests. The host preparation of every
 * stack is native's plan too (planner.ts), whether or not native is measured.
 */
import type { KindModule } from "../kind.ts";
import { commandStep } from "../plan.ts";
import { NATIVE_PRESETS, nativeOptionsSchema, type NativeOptions } from "./options.ts";
import { planNative, type NativePaths } from "./spec.ts";
import { nativePreflight } from "./preflight.ts";

export const native = {
  kind: "native",
  title: "the host itself, with the stack's CPU set and memory limit (a cgroup)",
  presets: NATIVE_PRESETS,
  inDefaultStack: true,
  optionsSchema: nativeOptionsSchema,
  plan: (x, def) => planNative(x, def, []),
  steps: (plan) => plan.commands.map((c) => commandStep("environment", plan.def.name, c)),
  preflight: nativePreflight,
  component: async () => (await import("./component.ts")).nativeComponent,
} satisfies KindModule<"native", NativeOptions, NativePaths>;
