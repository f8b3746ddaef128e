/**
 * The kvm kind: a libvirt guest per environment, booted from the built guest image, as libvirt's
 * defaults (`kvm`) or tuned (`kvm-tuned`). KVM only when the host's KVM proof passed (acceleration.ts),
 * otherwise QEMU TCG, labelled so everywhere. plan.ts plans disk, hugepages and domain; both e2e and the
 * Pulumi program run those commands.
 */
import type { KindModule } from "../kind.ts";
import { commandStep } from "../plan.ts";
import { KVM_PRESETS, kvmOptionsSchema, type KvmOptions } from "./options.ts";
import { planKvm } from "./plan.ts";
import { planGuestImage } from "./guest-image.ts";
import { kvmPreflight } from "./preflight.ts";
import type { DomainSpec } from "./domain.ts";

/** The ImagePlan id of the guest base image. */
export const GUEST_IMAGE = "guest-image";

export const kvm = {
  kind: "kvm",
  title: "a libvirt guest (KVM where the host proves it works, else QEMU TCG, labelled)",
  presets: KVM_PRESETS,
  inDefaultStack: true,
  optionsSchema: kvmOptionsSchema,
  images: (x) => [{ id: GUEST_IMAGE, commands: [planGuestImage(x)], resource: "commands", name: "guest-image" }],
  plan: (x, def, ctx) => planKvm(x, def, ctx.index, { kvm: ctx.probe.kvm, threadsPerCore: ctx.probe.threadsPerCore ?? 1 }),
  steps: (plan) => plan.commands.map((c) => commandStep("environment", plan.def.name, c)),
  preflight: kvmPreflight,
  component: async () => (await import("./component.ts")).kvmComponent,
} satisfies KindModule<"kvm", KvmOptions, DomainSpec>;
