/**
 * Pre-flight of containers in guests: what a kvm guest needs (libvirt and its network, hugepages for a
 * tuned guest, the KVM proof deciding KVM or TCG: stacks/kvm/preflight.ts, the same observations and
 * checks, run once when the stack has kvm guests too), and the host's dockerd, which builds the tools
 * image and saves it into the guest image. The guest's own dockerd is proven by the bring-up (it must
 * answer) and its limits by the facts (what the container really got).
 */
import { shq } from "../../lib/shell.ts";
import type { KindPreflight } from "../kind.ts";
import { GiB, MiB, type Envs } from "../preflight/check.ts";
import type { Experiment } from "../experiment.ts";
import { kvmPreflight, guestChecks, guestObserveCalls, GUEST_OBSERVE_LIBRARY } from "../kvm/preflight.ts";
import { dockerDaemonCheck, dockerObserveCalls, dockerPreflight } from "../docker/preflight.ts";
import { planDockerImage } from "../docker/spec.ts";
import { allPackages } from "../../workloads/registry.ts";
import { guestDockerImage } from "./image.ts";
import type { KvmDockerOptions } from "./options.ts";

const optionsOf = (e: Envs[number]) => e.options as KvmDockerOptions;
const imageOf = (x: Experiment) => guestDockerImage(x, planDockerImage(x, allPackages()).tag);

/** Bytes the guest image with Docker needs while it is built: the tree with the saved tools image, and the disk it is written to and loaded into. */
export const GUEST_DOCKER_IMAGE_BUILD_BYTES = 5 * GiB;

export const kvmDockerPreflight = {
  tools: [...kvmPreflight.tools, ...dockerPreflight.tools],
  library: [GUEST_OBSERVE_LIBRARY, dockerPreflight.library],
  guests: true,
  observe: (x) => [`obs_file guestDockerImage ${shq(imageOf(x).base)}`, ...guestObserveCalls(x), ...dockerObserveCalls(x)],
  checks: (x, o, envs) => [...guestChecks(x, o, envs), dockerDaemonCheck(o, envs.map((e) => e.name))],
  disk: (x, o, envs, data) => {
    const names = envs.map((e) => e.name);
    const hostDocker = x.environments.some((e) => e.options.kind === "docker");
    return [
      ...(o.get("file.guestDockerImage") !== "present" ? [{ label: "scratchDir", bytes: GUEST_DOCKER_IMAGE_BUILD_BYTES, for: names, what: "guest image with Docker" }] : []),
      // The tools image on the host: counted by the docker kind when the stack has one.
      ...(!hostDocker && o.get("docker.image") !== "present" ? [{ label: "dockerRoot", bytes: GiB, for: names, what: "tools image" }] : []),
      // A raw disk is a copy of the image (the tools image's layers in it): about 2.5 GiB used.
      ...envs.map((e) => ({ label: "scratchDir", bytes: data + (optionsOf(e).diskFormat === "raw" ? 3 * GiB : 512 * MiB), for: [e.name], what: `${e.name} disk` })),
    ];
  },
  heldMemory: (x, envs) => ({ mib: envs.length * x.host.memoryMiB, what: "guests with a container inside, up at once" }),
} satisfies KindPreflight;
