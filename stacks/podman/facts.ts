/**
 * Facts of a rootless Podman environment, run on the host (as root; every podman call as the user):
 * what Podman really gave the container (`podman container inspect`), the user's Podman itself (`podman
 * info`: runtime, storage driver, cgroup version and manager, network backend), how the limits were set
 * (the state file the bring-up wrote) and what a process inside sees, probed THROUGH the trial's own path
 * (the wrap and `podman exec`), so the facts show what a trial gets. Prints one JSON object; needs no jq.
 */
import { BASH_JSON_STRING, heredoc, shJoin, shq } from "../../lib/shell.ts";
import { CONTAINER_DATA_DIR } from "../docker/spec.ts";
import { podmanAs, type PodmanSpec } from "./spec.ts";

const INSPECT = ['{"id":{{json .ID}},"image":{{json .ImageName}},"imageId":{{json .Image}}',
  '"networkMode":{{json .HostConfig.NetworkMode}},"cpusetCpus":{{json .HostConfig.CpusetCpus}}',
  '"memoryBytes":{{json .HostConfig.Memory}},"memorySwapBytes":{{json .HostConfig.MemorySwap}},"pidsLimit":{{json .HostConfig.PidsLimit}}',
  '"shmBytes":{{json .HostConfig.ShmSize}},"init":{{json .HostConfig.Init}},"portBindings":{{json .HostConfig.PortBindings}}',
  '"mounts":{{json .Mounts}},"labels":{{json .Config.Labels}},"ociRuntime":{{json .OCIRuntime}},"storageDriver":{{json .Driver}}',
  '"cgroupManager":{{json .HostConfig.CgroupManager}},"cgroupPath":{{json .State.CgroupPath}},"pid":{{json .State.Pid}}}'].join(",");

const INFO = ['{"version":{{json .Version.Version}},"rootless":{{json .Host.Security.Rootless}}',
  '"storageDriver":{{json .Store.GraphDriverName}},"graphRoot":{{json .Store.GraphRoot}},"graphStatus":{{json .Store.GraphStatus}}',
  '"cgroupVersion":{{json .Host.CgroupsVersion}},"cgroupManager":{{json .Host.CgroupManager}},"cgroupControllers":{{json .Host.CgroupControllers}}',
  '"defaultRuntime":{{json .Host.OCIRuntime.Name}},"networkBackend":{{json .Host.NetworkBackend}}',
  '"slirp4netns":{{json .Host.Slirp4NetNS.Version}},"kernel":{{json .Host.Kernel}}}'].join(",");

/** Run inside through the trial's path: `key=value` lines (the memory cgroup's path, read on the host: v1 hides it inside). */
const INSIDE = String.raw`echo "cpusAllowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
echo "nproc=$(nproc)"
echo "memoryCgroup=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' /proc/self/cgroup)"
echo "memoryMax=$(cat /sys/fs/cgroup/memory.max 2>/dev/null)"
echo "dataFs=$(df -PT ${CONTAINER_DATA_DIR} | awk 'NR==2{print $1" "$2}')"
echo "uidMap=$(tr -s ' ' < /proc/self/uid_map | tr '\n' ';')"
echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"`;

export function podmanFactsScript(s: PodmanSpec, wrap: readonly string[]): string {
  const p = shJoin(podmanAs(s.user));
  const doc = heredoc(INSIDE, "VIRTPERF_PROBE");
  return [
    "set -euo pipefail",
    BASH_JSON_STRING,
    `c=${shq(s.container.name)}; state=${shq(s.limits.stateFile)}`,
    `inspect=$(${p} container inspect --format ${shq(INSPECT)} "$c")`,
    `engine=$(${p} info --format ${shq(INFO)})`,
    `inside=$(${shJoin([...wrap, ...podmanAs(s.user), "exec", "-i", s.container.name, "bash", "--noprofile", "--norc", "-s"])} ${doc.start}`,
    doc.text,
    ")",
    `mode=$(sed -n 's/^mode=//p' "$state" 2>/dev/null); note=$(sed -n 's/^note=//p' "$state" 2>/dev/null)`,
    // The memory limit a trial's processes get: cgroup v1's file on the host (a rootless container cannot read it), else v2's inside.
    `memcg=$(sed -n 's/^memoryCgroup=//p' <<<"$inside"); limit=$(sed -n 's/^memoryMax=//p' <<<"$inside")`,
    `if [ -n "$memcg" ] && [ -r "/sys/fs/cgroup/memory$memcg/memory.limit_in_bytes" ]; then limit=$(cat "/sys/fs/cgroup/memory$memcg/memory.limit_in_bytes"); fi`,
    // A host client's connection to a published port: rootlessport accepts it on the host and copies it to a
    // socket its child opened inside the container's network namespace (a userland relay; slirp4netns carries
    // only the container's own outbound traffic). Without rootlessport, slirp4netns forwards the port itself.
    `if pgrep -u ${shq(s.user)} -x rootlessport >/dev/null; then portPath='"rootlessport (userland relay into the container network namespace)"'; else portPath='"slirp4netns port forwarding (user-mode TCP/IP)"'; fi`,
    `fields=""`,
    `while IFS== read -r k v; do [ "$k" = memoryCgroup ] || [ "$k" = memoryMax ] || fields+="$(js "$k"):$(js "$v"),"; done <<<"$inside"`,
    `fields+="$(js memoryLimit):$(js "\${limit:-unknown}"),$(js memoryCgroup):$(js "$memcg")"`,
    `printf '{"kind":"podman","container":%s,"user":%s,"inspect":%s,"engine":%s,"limits":{"mode":%s,"note":%s},"portPath":%s,"inside":{%s}}\\n' \\`,
    `  "$(js "$c")" ${shq(JSON.stringify(s.user))} "$inspect" "$engine" "$( [ -n "$mode" ] && js "$mode" || echo null)" "$( [ -n "$note" ] && js "$note" || echo null)" "$portPath" "$fields"`,
  ].join("\n");
}
