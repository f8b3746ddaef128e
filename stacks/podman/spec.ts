/**
 * Rootless Podman environments as plain data (no Pulumi): Docker's default container (docker/spec.ts
 * containerSpec: name, labels, ports, CPU set, memory, /dev/shm, init) run by `podman` as an unprivileged
 * user, on Podman's rootless network (slirp4netns, ports published by rootlessport), data in the
 * container's storage. e2e runs these commands; the Pulumi component runs the same ones as a chain.
 *
 * Limits (what rootless Podman can set depends on the host):
 * - cgroup v2 with cpuset and memory delegated to the user: Podman's own --cpuset-cpus, --memory and
 *   --memory-swap (mode "podman", as Docker).
 * - cgroup v1 (rootless Podman ignores every limit there): native's cgroup v1 groups (native/spec.ts
 *   cgroupFunctions), which `podman run` and every `podman exec` join on the host side (the target's
 *   wrap), so the container, conmon, slirp4netns and rootlessport, and each trial's processes, are in
 *   them: the same CPU set and memory limit as native (mode "cgroup1").
 * - neither: taskset -c alone in the wrap, NO memory limit (mode "taskset").
 * The bring-up decides, writes the state file the wrap and the facts read, and says which.
 */
import type { CommandSpec, EnvironmentDef, Experiment } from "../experiment.ts";
import type { EnvironmentPlan, ImagePlan } from "../plan.ts";
import { hostSshTarget } from "../host-address.ts";
import { shJoin, shq } from "../../lib/shell.ts";
import { engineCommand } from "../../workloads/runner/targets.ts";
import { DOCKER_PRESETS } from "../docker/options.ts";
import { CONTAINER_DATA_DIR, CONTAINER_WORK_ROOT, containerSpec, portBlock, type ContainerSpec } from "../docker/spec.ts";
import { cgroupDelete, cgroupFunctions, nativeWrap } from "../native/spec.ts";
import type { PodmanOptions } from "./options.ts";
import { podmanFactsScript } from "./facts.ts";

export interface PodmanSpec {
  /** Docker's default container as docker/spec.ts plans it (its bridge is Podman's rootless network here; overlay storage). */
  readonly container: ContainerSpec;
  /** The unprivileged user whose Podman runs it. */
  readonly user: string;
  /** Home of the user when the bring-up creates it: /var/lib/<user>. */
  readonly home: string;
  readonly runtime: PodmanOptions["runtime"];
  /** Podman 4.3's rootless default, named so a newer Podman (pasta by default from 5.0) runs the same path. */
  readonly network: "slirp4netns";
  /** The tools image in the user's storage: `localhost/<Docker tools tag>`, loaded from Docker. */
  readonly image: string;
  /** The Docker tools image it is loaded from. */
  readonly sourceImage: string;
  /** native's cgroup scheme: the group `virtperf-<stack>-<env>` and the state file the wrap and the facts read. */
  readonly limits: { readonly group: string; readonly stateFile: string };
}

export type PodmanEnvironmentPlan = EnvironmentPlan<PodmanSpec>;

/** Every podman call as the user, with a declared environment (the runner's own words). */
export function podmanAs(user: string): string[] {
  return engineCommand({ engine: "podman", user });
}

/** Home of a user the bring-up creates. */
export function podmanHome(user: string): string {
  return `/var/lib/${user}`;
}

/** The ImagePlan id of a user's copy of the tools image (images in rootless storage are per user). */
export function podmanImageId(user: string): string {
  return `podman-tools-${user}`;
}

function podmanOptions(env: EnvironmentDef): PodmanOptions {
  if (env.options.kind !== "podman") throw new TypeError(`planPodman: environment "${env.name}" is ${env.options.kind}, not podman`);
  return env.options as PodmanOptions;
}

/** The user, its subordinate ids, its storage driver and /dev/net/tun; then a real `podman info` as the user. Idempotent. */
export function userScript(user: string, home: string): string {
  const p = shJoin(podmanAs(user));
  return String.raw`set -euo pipefail
cd /  # the user may not enter the caller's directory
user=${shq(user)}; home=${shq(home)}
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --user-group --create-home --home-dir "$home" --shell /usr/sbin/nologin --comment "virtperf rootless Podman" "$user"
  echo "created user $user (home $home)"
fi
[ "$(id -u "$user")" != 0 ] || { echo "$user is uid 0: rootless Podman needs an unprivileged user" >&2; exit 1; }
home=$(getent passwd "$user" | cut -d: -f6)
# 65536 subordinate uids and gids (the container's 1..65536), after the highest range given out so far.
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  if ! grep "^$user:" "$f" >/dev/null; then
    first=$(awk -F: 'BEGIN { m = 100000 } NF >= 3 && $2 + $3 > m { m = $2 + $3 } END { print m }' "$f")
    opt=--add-subuids; [ "$f" = /etc/subuid ] || opt=--add-subgids
    usermod "$opt" "$first-$((first + 65535))" "$user"
    echo "$f: $user gets $first-$((first + 65535))"
  fi
done
# Storage: the kernel's overlay in the user namespace (left alone, Debian's podman picks vfs here: a full copy per layer).
conf=$home/.config/containers/storage.conf
if [ ! -e "$conf" ]; then
  runuser -u "$user" -- bash --norc -c 'mkdir -p "$(dirname "$1")" && printf "[storage]\ndriver = \"overlay\"\n" > "$1"' _ "$conf"
  echo "$conf: driver overlay"
fi
# slirp4netns opens /dev/net/tun as the user: Debian's udev makes it 0666; a host without udev may not.
if [ -c /dev/net/tun ] && ! runuser -u "$user" -- test -r /dev/net/tun -a -w /dev/net/tun; then
  chmod 0666 /dev/net/tun; echo "/dev/net/tun: mode 0666 (Debian's default), for slirp4netns"
fi
# A real podman as the user; its pause process (holding the user's namespaces) starts here, outside any trial cgroup.
info=$(${p} info --format '{{.Version.Version}} {{.Store.GraphDriverName}} {{.Host.CgroupManager}} cgroup {{.Host.CgroupsVersion}}' 2>/dev/null) || { echo "podman info as $user failed:" >&2; ${p} info >&2; exit 1; }
echo "podman as $user: $info"`;
}

/** The tools image in the user's storage, after Docker built it (content-addressed: loaded once per tag). */
export function loadImageScript(user: string, sourceImage: string, image: string): string {
  const p = shJoin(podmanAs(user));
  return `set -euo pipefail
if ${p} image exists ${shq(image)}; then echo ${shq(`reusing ${image} in ${user}'s storage`)}; exit 0; fi
docker save ${shq(sourceImage)} | ${p} load
${p} image exists ${shq(image)} || { echo ${shq(`${image} is not in ${user}'s storage after podman load`)} >&2; exit 1; }`;
}

/** A user's copy of the tools image: the user first, then the image loaded from Docker's (ImagePlan.after). */
export function planPodmanImage(user: string, sourceImage: string, after: string): ImagePlan {
  const image = `localhost/${sourceImage}`;
  return {
    id: podmanImageId(user), resource: "commands", name: `podman-image-${user}`, after: [after],
    commands: [
      // The user stays (its storage is the image cache), as the host's packages do.
      { role: "podman-user", on: "host", create: userScript(user, podmanHome(user)), triggers: [user] },
      { role: "podman-image", on: "host", create: loadImageScript(user, sourceImage, image),
        delete: `${shJoin([...podmanAs(user), "rmi", "--force", image])} >/dev/null 2>&1 || true`, triggers: [image] },
    ],
  };
}

/** The flags that give the container the stack's CPU set and memory when Podman can set them (mode "podman"). */
export function podmanLimitFlags(c: ContainerSpec): string[] {
  return ["--cpuset-cpus", c.cpusetCpus, "--memory", `${c.memoryBytes}b`, "--memory-swap", `${c.memoryBytes}b`, "--pids-limit", "-1"];
}

/** `podman run` argv of a spec, split where the limit flags go (they depend on the mode the bring-up found). */
export function podmanRunParts(s: PodmanSpec): { head: string[]; tail: string[] } {
  const c = s.container;
  return {
    head: [
      ...podmanAs(s.user), "run", "--detach", "--name", c.name,
      ...Object.entries(c.labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
      ...(c.init ? ["--init"] : []), "--runtime", s.runtime, "--network", s.network,
      ...c.ports.flatMap((p) => ["--publish", `${p.hostIp}:${p.port}:${p.port}/${p.protocol}`]),
      "--shm-size", `${c.shmBytes}b`,
    ],
    tail: [s.image, ...c.command],
  };
}

/** The whole `podman run` argv in one mode (tests, docs). */
export function renderPodmanRun(s: PodmanSpec, mode: "podman" | "cgroup1" | "taskset"): string[] {
  const { head, tail } = podmanRunParts(s);
  return [...head, ...(mode === "podman" ? podmanLimitFlags(s.container) : []), ...tail];
}

/** Decides how the limits are set (see the file's comment) and writes the state file. Never fails for lack of cgroups. */
function limitsScript(x: Experiment, s: PodmanSpec): string {
  return String.raw`set -u
${cgroupFunctions(x, s.limits)}
info=$(${shJoin(podmanAs(s.user))} info --format '{{.Host.CgroupsVersion}} {{range .Host.CgroupControllers}}{{.}} {{end}}' 2>&1) || info="podman info failed: $info"
ctl=" $info "
if [[ $info == v2* && $ctl == *" cpuset "* && $ctl == *" memory "* ]]; then
  printf 'mode=podman\nnote=cgroup v2 with cpuset and memory delegated to %s: podman --cpuset-cpus=%s --memory=%s --memory-swap=%s\n' ${shq(s.user)} "$cpus" "$mem" "$mem" > "$state"
elif [[ $info == v1* ]] && v1 2>/dev/null; then
  sed -i 's/^note=/note=rootless Podman sets no limits on cgroup v1: its container and every podman exec join /' "$state"
else
  printf 'mode=taskset\nnote=rootless Podman cannot set limits here (%s) and no cgroup v1 group could be made: CPUs pinned with taskset -c %s, NO memory limit\n' "$info" "$cpus" > "$state"
fi
sed -n 's/^note=/podman limits: /p' "$state"`;
}

/** Waits (5 s at most) for the groups to empty after the container went, then removes them as native does. */
function limitsDelete(s: PodmanSpec): string {
  return String.raw`state=${shq(s.limits.stateFile)}
[ -r "$state" ] || exit 0
for _ in $(seq 50); do
  busy=""; while read -r t; do [ -z "$(cat "$t" 2>/dev/null)" ] || busy=1; done < <(sed -n 's/^join=//p' "$state")
  [ -n "$busy" ] || break; sleep 0.1
done
${cgroupDelete(s.limits)}`;
}

/** `podman run` with the mode's flags, through the wrap (joined cgroups, taskset), after the user's podman is up outside them. */
function containerScript(s: PodmanSpec, wrap: readonly string[]): string {
  const { head, tail } = podmanRunParts(s);
  return `set -euo pipefail
mode=$(sed -n 's/^mode=//p' ${shq(s.limits.stateFile)})
limits=()
[ "$mode" != podman ] || limits=(${shJoin(podmanLimitFlags(s.container))})
${shJoin([...podmanAs(s.user), "info"])} >/dev/null
${shJoin([...wrap, ...head])} "\${limits[@]}" ${shJoin(tail)}`;
}

export function podmanRemove(s: PodmanSpec): string {
  return `${shJoin([...podmanAs(s.user), "rm", "--force", "--time", "0", "--volumes", s.container.name])} >/dev/null 2>&1 || true`;
}

/** EnvironmentPlan of one rootless Podman environment; `dockerTag`: the Docker tools image (planDockerImage's tag). */
export function planPodman(x: Experiment, env: EnvironmentDef, index: number, dockerTag: string): PodmanEnvironmentPlan {
  const o = podmanOptions(env);
  const container = containerSpec(x, { ...env, options: DOCKER_PRESETS.docker }, index, `localhost/${dockerTag}`);
  const id = `${x.stack}-${env.name}`;
  const spec: PodmanSpec = {
    container, user: o.user, home: podmanHome(o.user), runtime: o.runtime, network: "slirp4netns",
    image: `localhost/${dockerTag}`, sourceImage: dockerTag,
    limits: { group: `virtperf-${id}`, stateFile: `${x.host.scratchDir}/podman/${id}.cgroup` },
  };
  const wrap = nativeWrap(x, spec.limits, "virtperf-podman");
  const commands: CommandSpec[] = [
    { role: "podman-limits", on: "host", create: limitsScript(x, spec), delete: limitsDelete(spec), triggers: [x.host.cpuset, String(x.host.memoryMiB), o.user] },
    { role: "podman-container", on: "host", create: containerScript(spec, wrap), delete: podmanRemove(spec), triggers: [spec.image, o.runtime] },
  ];
  return {
    kind: "podman", def: env, acceleration: "none",
    target: {
      kind: "docker", container: container.name, engine: "podman", user: o.user, wrap,
      ...(x.host.address.kind === "ssh" ? { via: hostSshTarget(x.host.address) } : {}),
    },
    ports: portBlock(index), dataDir: CONTAINER_DATA_DIR, workRoot: CONTAINER_WORK_ROOT,
    shape: { cpus: x.host.cpus, memoryMiB: x.host.memoryMiB },
    commands, spec, facts: podmanFactsScript(spec, wrap),
  };
}
