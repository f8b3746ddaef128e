/**
 * The registry of environment kinds: one module per kind (stacks/<kind>/index.ts), keyed by the kind
 * names of model/kinds.ts. `satisfies` makes a kind listed there without a module here (or a module
 * whose `kind` is another's) a compile error. Adding a kind is its folder plus one line below.
 *
 * Everything that depends on the kind (config, planner, e2e, pre-flight, the Pulumi program) goes
 * through `kindModule`, never through a switch on the kind.
 */
import type { KindName, KindOptions } from "../model/kinds.ts";
import type { KindModule } from "./kind.ts";
import { native } from "./native/index.ts";
import { docker } from "./docker/index.ts";
import { kvm } from "./kvm/index.ts";
import { kvmDocker } from "./kvm-docker/index.ts";
import { podman } from "./podman/index.ts";
import { gvisor } from "./gvisor/index.ts";

export const KINDS = { native, docker, kvm, "kvm-docker": kvmDocker, podman, gvisor } as const satisfies { readonly [K in KindName]: KindModule<K, KindOptions<K>, unknown> };

/** A kind's module, seen through the common contract (what dispatch needs; each module keeps its own types inside). */
export function kindModule(kind: KindName): KindModule<KindName, KindOptions, unknown> {
  return KINDS[kind];
}

/** Every preset of every kind, by name, for lookups of a name from config. A name is one kind's only (checked when this loads). */
export const PRESET_OPTIONS: Readonly<Record<string, KindOptions>> = (() => {
  const out: Record<string, KindOptions> = {};
  for (const m of Object.values(KINDS)) {
    for (const [name, options] of Object.entries(m.presets)) {
      if (name in out) throw new Error(`stacks/kinds.ts: preset "${name}" is defined by kinds ${out[name]!.kind} and ${m.kind}`);
      out[name] = options;
    }
  }
  return out;
})();

type PresetsOf<M> = M extends { readonly presets: infer P } ? P : never;
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** The same presets with each name's own options type (tests and code that name a preset). */
export const PRESETS = PRESET_OPTIONS as Intersection<PresetsOf<(typeof KINDS)[KindName]>>;

export const PRESET_NAMES: readonly string[] = Object.keys(PRESET_OPTIONS);

/** The presets of a stack that lists no environments: those of the study's kinds. */
export const DEFAULT_PRESET_NAMES: readonly string[] = Object.values(KINDS).filter((m) => m.inDefaultStack).flatMap((m) => Object.keys(m.presets));
