/**
 * Rootless Podman as Pulumi resources, thin: no Podman provider runs a rootless user's containers, so an
 * environment is its plan's commands (limits, then the container) as a command chain, the very scripts
 * e2e runs, after the host preparation and the user's copy of the tools image.
 */
import { CommandChain } from "../command-chain.ts";
import type { KindComponent } from "../kind.ts";
import { podmanImageId, type PodmanSpec } from "./spec.ts";

export const podmanComponent: KindComponent<PodmanSpec> = {
  resources: (name, plan, ctx) => {
    const image = ctx.images.get(podmanImageId(plan.spec.user))?.resource;
    return [new CommandChain(name, {
      commands: plan.commands, address: ctx.address, ...(ctx.privateKey ? { privateKey: ctx.privateKey } : {}),
      after: [ctx.host, ...(image ? [image] : [])],
    })];
  },
};
