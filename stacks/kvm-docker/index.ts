/**
 * The kvm-docker kind: a Docker container inside a KVM guest (the study's question, "what does a
 * container cost inside a VM?"). The guest is planned as stacks/kvm plans one (KVM where the host's
 * proof passes, else QEMU TCG, labelled), booted from the guest image with a Docker engine and the
 * tools image (image.ts); the container inside it as stacks/docker plans one, with all of the guest's
 * vCPUs and its memory less the guest system's share (plan.ts). The report compares it with native and
 * with the stack's `kvm` guest and `docker` container of the same options (references).
 */
import type { KindModule } from "../kind.ts";
import type { EnvironmentDef, Experiment } from "../experiment.ts";
import { commandStep } from "../plan.ts";
import { allPackages } from "../../workloads/registry.ts";
import { planDockerImage } from "../docker/spec.ts";
import { docker, TOOLS_IMAGE } from "../docker/index.ts";
import { KVM_DOCKER_PRESETS, containerOptions, guestOptions, kvmDockerOptionsSchema, type KvmDockerOptions } from "./options.ts";
import { planKvmDocker, type KvmDockerSpec } from "./plan.ts";
import { GUEST_DOCKER_IMAGE, planGuestDockerImage } from "./image.ts";
import { kvmDockerPreflight } from "./preflight.ts";

const toolsTag = (x: Experiment) => planDockerImage(x, allPackages()).tag;
/** Same options: the same fields with the same (primitive) values, in any order. */
const same = (a: object, b: object) => {
  const ea = Object.entries(a), eb = new Map(Object.entries(b));
  return ea.length === eb.size && ea.every(([k, v]) => eb.get(k) === v);
};

/**
 * The stack's environments it is also compared with: the first `kvm` environment with the same guest
 * options (the guest alone), then the first `docker` environment with the same container options (the
 * container on bare metal); A/A copies are never references. Each only when the stack lists one.
 */
export function kvmDockerReferences(x: Experiment, def: EnvironmentDef): string[] {
  const o = def.options as KvmDockerOptions;
  const first = (want: object) => x.environments.find((e) => !e.calibrationOf && e.name !== def.name && same(e.options, want))?.name;
  return [first(guestOptions(o)), first(containerOptions(o))].filter((n): n is string => n !== undefined);
}

export const kvmDocker = {
  kind: "kvm-docker",
  title: "a Docker container inside a libvirt guest (KVM where the host proves it works, else QEMU TCG, labelled)",
  presets: KVM_DOCKER_PRESETS,
  inDefaultStack: false,
  optionsSchema: kvmDockerOptionsSchema,
  // The tools image first: the guest image saves it from the host's daemon.
  images: (x) => [
    ...(docker.images(x)),
    { id: GUEST_DOCKER_IMAGE, commands: [planGuestDockerImage(x, toolsTag(x))], resource: "commands", name: GUEST_DOCKER_IMAGE, after: [TOOLS_IMAGE] },
  ],
  plan: (x, def, ctx) => planKvmDocker(x, def, ctx.index, { kvm: ctx.probe.kvm, threadsPerCore: ctx.probe.threadsPerCore ?? 1 }, toolsTag(x)),
  references: kvmDockerReferences,
  steps: (plan) => plan.commands.map((c) => commandStep("environment", plan.def.name, c)),
  preflight: kvmDockerPreflight,
  component: async () => (await import("./component.ts")).kvmDockerComponent,
} satisfies KindModule<"kvm-docker", KvmDockerOptions, KvmDockerSpec>;
