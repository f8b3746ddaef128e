/**
 * Aspects of a container inside a guest (model/facts.ts kvmDockerFactsSchema, written by
 * stacks/kvm-docker/): both layers in each line, the container's first ("container: ...; guest: ..."),
 * read by the guest's reader (facts-kvm.ts) and the container's (facts-host.ts), so a nested line differs
 * from the `kvm` guest's and the `docker` container's exactly where the layers add up.
 */
import type { Aspects } from "./facts.ts";
import type { KvmDockerFacts } from "../model/facts.ts";
import { kvmAspects } from "./facts-kvm.ts";
import { dockerAspects } from "./facts-host.ts";
import { num, str } from "./facts-json.ts";

/** "container: a; guest: b", either side left out when unknown. */
function layers(container: string | undefined, guest: string | undefined): string | undefined {
  const parts = [container ? `container: ${container}` : undefined, guest ? `guest: ${guest}` : undefined].filter((p): p is string => !!p);
  return parts.length ? parts.join("; ") : undefined;
}

function memoryText(facts: KvmDockerFacts, container: string | undefined, guest: string | undefined): string | undefined {
  const system = num(facts.memory?.guestSystemMiB);
  const left = system === undefined ? undefined : `${system} MiB of the guest left to its own system`;
  const line = layers(container, guest);
  return line && left ? `${line}; ${left}` : line;
}

export function kvmDockerAspects(facts: KvmDockerFacts): Aspects {
  const guest = facts.guest ? kvmAspects(facts.guest) : {};
  const container = facts.container ? dockerAspects(facts.container, undefined) : {};
  const out: Aspects = {};
  const set = (key: keyof Aspects, v: string | undefined) => { if (v) out[key] = v; };
  // "0-1 (docker --cpuset-cpus)" -> "0-1 of the guest's vCPUs (docker --cpuset-cpus)": its numbers are the guest's.
  set("cpuset", layers(container.cpuset?.replace(/^(\S+)/, "$1 of the guest's vCPUs"), guest.cpuset));
  set("memory", memoryText(facts, container.memory, guest.memory));
  // A host-network container shares the guest's stack: "host network stack" there is the guest's.
  set("network", layers(container.network?.replace(/^host network stack/, "the guest's network stack"), guest.network));
  set("storage", layers(container.storage && `${container.storage} on the guest's disk`, guest.storage));
  set("acceleration", str(facts.acceleration) ?? guest.acceleration);
  set("kernel", guest.kernel ?? container.kernel);
  set("cpuModel", guest.cpuModel);
  return out;
}
