/**
 * The environment kinds, the one list every layer shares (model/ is the neutral room: it imports nothing
 * from stacks/, workloads/runner/, analysis/ or cli/). A kind is implemented by its module under
 * stacks/<kind>/ and registered in stacks/kinds.ts, typed over this list, so a kind listed here without a
 * module (or a module not listed) does not compile.
 */
export const KIND_NAMES = ["native", "docker", "kvm", "kvm-docker", "podman", "gvisor"] as const;
export type KindName = (typeof KIND_NAMES)[number];

/** The kinds whose environments run in a guest: their acceleration is "kvm" or "tcg", never "none". */
export const GUEST_KINDS: readonly KindName[] = ["kvm", "kvm-docker"];

/** How a guest's vCPUs run: "none" for kinds without a guest, "kvm" or "tcg" (software emulation, never passed off as KVM). */
export const ACCELERATIONS = ["none", "kvm", "tcg"] as const;
export type GuestAcceleration = (typeof ACCELERATIONS)[number];

/** An environment's options: its kind, and that kind's own fields (stacks/<kind>/options.ts). */
export interface KindOptions<K extends KindName = KindName> {
  readonly kind: K;
}
