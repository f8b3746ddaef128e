/**
 * The podman kind: Docker's default container run by rootless Podman as an unprivileged user the
 * bring-up creates, on Podman's rootless network (slirp4netns), data in the container's storage; the
 * stack's CPU set and memory by whichever means the host allows (spec.ts). The tools image is Docker's,
 * loaded into the user's storage; the report compares it with the stack's `docker` environment too.
 */
import type { KindModule } from "../kind.ts";
import { commandStep } from "../plan.ts";
import { docker, TOOLS_IMAGE } from "../docker/index.ts";
import { DOCKER_PRESETS } from "../docker/options.ts";
import { planDockerImage } from "../docker/spec.ts";
import { allPackages } from "../../workloads/registry.ts";
import { PODMAN_PRESETS, podmanOptionsSchema, type PodmanOptions } from "./options.ts";
import { planPodman, planPodmanImage, type PodmanSpec } from "./spec.ts";
import { podmanPreflight } from "./preflight.ts";
import type { EnvironmentDef, Experiment } from "../experiment.ts";

const usersOf = (x: Experiment) => [...new Set(x.environments.filter((e) => e.options.kind === "podman").map((e) => (e.options as PodmanOptions).user))];

/** The stack's Docker environment with Docker's defaults (bridge/NAT, overlay): the same container, rootful. */
function dockerReference(x: Experiment, def: EnvironmentDef): string[] {
  const same = x.environments.filter((e) => e.options.kind === "docker" && !e.calibrationOf && JSON.stringify(e.options) === JSON.stringify(DOCKER_PRESETS.docker));
  const ref = same.find((e) => e.name === "docker") ?? same[0];
  return ref && ref.name !== def.name ? [ref.name] : [];
}

export const podman = {
  kind: "podman",
  title: "a rootless Podman container (an unprivileged user's, slirp4netns network) from the tools image",
  presets: PODMAN_PRESETS,
  inDefaultStack: false,
  optionsSchema: podmanOptionsSchema,
  // Docker builds the tools image; each user gets its own copy (rootless storage is per user).
  images: (x) => [...docker.images(x), ...usersOf(x).map((u) => planPodmanImage(u, planDockerImage(x, allPackages()).tag, TOOLS_IMAGE))],
  plan: (x, def, ctx) => planPodman(x, def, ctx.index, planDockerImage(x, allPackages()).tag),
  references: dockerReference,
  steps: (plan) => plan.commands.map((c) => commandStep("environment", plan.def.name, c)),
  preflight: podmanPreflight,
  component: async () => (await import("./component.ts")).podmanComponent,
} satisfies KindModule<"podman", PodmanOptions, PodmanSpec>;
