/**
 * Native (bare-metal) environment as plain data: host preparation (packages, directories, a cgroup that
 * gives native the same CPU set and memory limit as the containers and guests), the `local` target's
 * wrapper that puts every trial into that cgroup, and the host's facts. No Pulumi: native.ts maps the
 * commands onto command resources, e2e runs them as they are.
 *
 * Limits: cgroup v2 uses `/sys/fs/cgroup/virtperf-<stack>-native` (cpuset.cpus, memory.max,
 * memory.swap.max=0). On a cgroup v1 host (this machine: docker reports "Cgroup Version: 1") the group is
 * made in the cpuset and memory hierarchies, nested under the preparing process's own group (v1 has no
 * "no internal processes" rule, and nesting keeps us inside any limits the host already sets). When
 * neither is writable, `taskset -c` alone pins the CPUs, there is no memory limit, and a note says so.
 * The wrapper always adds `taskset -c` too. The preparation records what it made in a state file that
 * the wrapper reads; the facts run a probe THROUGH the wrapper, so they show what native really got.
 */
import type { CommandSpec, EnvironmentDef, Experiment } from "../experiment.ts";
import { hostSshTarget } from "../host-address.ts";
import type { EnvironmentPlan } from "../plan.ts";
import { BASH_JSON_STRING, heredoc, shJoin, shq } from "../../lib/shell.ts";


export interface NativePaths {
  /** cgroup name: `virtperf-<stack>-native`. */
  readonly group: string;
  /** State file the preparation writes: `mode=`, `join=` (one per file to write the pid to), `note=`. */
  readonly stateFile: string;
  readonly dataDir: string;
  readonly workRoot: string;
}

export function nativePaths(x: Experiment, env: EnvironmentDef): NativePaths {
  const id = `${x.stack}-${env.name}`;
  return {
    group: `virtperf-${id}`,
    stateFile: `${x.host.scratchDir}/native/${id}.cgroup`,
    dataDir: `${x.host.ioDir}/${id}`,
    workRoot: `${x.host.scratchDir}/work/${id}`,
  };
}

/**
 * Command words put before `bash -s`: join the recorded cgroup(s), then pin with taskset. `name`: the
 * wrapper's $0 (what `ps` shows). Other kinds whose engine cannot set the limits reuse it (rootless Podman).
 */
export function nativeWrap(x: Experiment, p: Pick<NativePaths, "stateFile">, name = "virtperf-native"): string[] {
  const join = `f=${shq(p.stateFile)}; if [ -r "$f" ]; then while read -r t; do echo $$ > "$t" 2>/dev/null || true; done < <(sed -n 's/^join=//p' "$f"); fi; exec taskset -c ${shq(x.host.cpuset)} "$@"`;
  return ["bash", "-c", join, name];
}

/**
 * Bash that sets g, cpus, mem, state and defines v2 and v1: each makes the group with the stack's CPU
 * set and memory (swap capped) in that cgroup version and writes the state file (mode, join lines,
 * note), or returns non-zero. For kinds that choose among them (native below, rootless Podman).
 */
export function cgroupFunctions(x: Experiment, p: Pick<NativePaths, "group" | "stateFile">): string {
  const bytes = x.host.memoryMiB * 2 ** 20;
  return String.raw`g=${shq(p.group)}; cpus=${shq(x.host.cpuset)}; mem=${bytes}; state=${shq(p.stateFile)}
mkdir -p "$(dirname "$state")"
v2() {
  local r=/sys/fs/cgroup d=/sys/fs/cgroup/$g
  [ "$(stat -fc %T $r)" = cgroup2fs ] || return 1
  for c in cpuset memory; do grep -qw $c $r/cgroup.subtree_control || echo "+$c" > $r/cgroup.subtree_control || return 1; done
  mkdir -p "$d" && echo "$cpus" > "$d/cpuset.cpus" && echo "$mem" > "$d/memory.max" || return 1
  [ ! -e "$d/memory.swap.max" ] || echo 0 > "$d/memory.swap.max" || return 1
  printf 'mode=cgroup2\njoin=%s\nnote=cgroup v2 %s: cpuset.cpus=%s memory.max=%s memory.swap.max=0\n' "$d/cgroup.procs" "$d" "$cpus" "$mem" > "$state"
}
v1() {
  local cs=/sys/fs/cgroup/cpuset mm=/sys/fs/cgroup/memory
  [ -e $cs/cpuset.cpus ] && [ -e $mm/memory.limit_in_bytes ] || return 1
  local own_cs own_mm
  own_cs=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}cpuset\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' /proc/self/cgroup)
  own_mm=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' /proc/self/cgroup)
  [ "$own_cs" != / ] || own_cs=""; [ "$own_mm" != / ] || own_mm=""
  local dc="$cs$own_cs/$g" dm="$mm$own_mm/$g"
  mkdir -p "$dc" "$dm" || return 1
  cat "$(dirname "$dc")/cpuset.mems" > "$dc/cpuset.mems" && echo "$cpus" > "$dc/cpuset.cpus" || return 1
  echo "$mem" > "$dm/memory.limit_in_bytes" || return 1
  [ ! -e "$dm/memory.memsw.limit_in_bytes" ] || echo "$mem" > "$dm/memory.memsw.limit_in_bytes" || return 1
  printf 'mode=cgroup1\njoin=%s\njoin=%s\nnote=cgroup v1 %s and %s: cpuset.cpus=%s memory.limit_in_bytes=%s (swap capped)\n' \
    "$dc/tasks" "$dm/tasks" "$dc" "$dm" "$cpus" "$mem" > "$state"
}`;
}

/** Creates the cgroup (v2, else v1, else none) and writes the state file. Never fails for lack of cgroups. */
function cgroupCreate(x: Experiment, p: NativePaths): string {
  return String.raw`set -u
${cgroupFunctions(x, p)}
if v2 2>/dev/null; then :; elif v1 2>/dev/null; then :; else
  printf 'mode=taskset\nnote=cgroups not writable here: CPUs pinned with taskset -c %s, NO memory limit\n' "$cpus" > "$state"
fi
sed -n 's/^note=/native limits: /p' "$state"`;
}

/** Removes the groups a state file names and the file (shared with the kinds that reuse cgroupFunctions). */
export function cgroupDelete(p: Pick<NativePaths, "stateFile">): string {
  // Remove exactly the groups the state file names (rmdir fails while processes remain: say so).
  return String.raw`state=${shq(p.stateFile)}
[ -r "$state" ] || exit 0
sed -n 's/^join=//p' "$state" | while read -r t; do d=$(dirname "$t"); [ ! -d "$d" ] || rmdir "$d" || echo "cgroup $d still has processes; left in place" >&2; done
rm -f "$state"`;
}

/** Installs whichever of the workload packages are missing on the host (never uninstalls: the host is the user's). */
function packagesCreate(packages: readonly string[]): string {
  return String.raw`missing=""
for p in ${shJoin(packages)}; do dpkg -s "$p" 2>/dev/null | grep '^Status: install ok installed' >/dev/null || missing="$missing $p"; done
if [ -n "$missing" ]; then echo "installing:$missing"; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; else echo "workload packages present"; fi`;
}

/**
 * EnvironmentPlan of the native environment. `packages`: the workload packages the host needs
 * (workloads/registry.ts allPackages()); an empty list skips the install step.
 */
export function planNative(x: Experiment, env: EnvironmentDef, packages: readonly string[]): EnvironmentPlan<NativePaths> {
  if (env.options.kind !== "native") throw new TypeError(`planNative: environment "${env.name}" is ${env.options.kind}, not native`);
  const p = nativePaths(x, env);
  const a = x.host.address;
  const wrap = nativeWrap(x, p);
  const commands: CommandSpec[] = [
    ...(packages.length ? [{ role: "host-packages", on: "host" as const, create: packagesCreate(packages), triggers: [...packages].sort() }] : []),
    {
      role: "host-dirs", on: "host",
      create: `mkdir -p ${shJoin([x.host.scratchDir, x.host.ioDir, p.dataDir, p.workRoot])}`,
      delete: `rm -rf ${shJoin([p.dataDir, p.workRoot])}`,
      triggers: [p.dataDir, p.workRoot],
    },
    { role: "native-cgroup", on: "host", create: cgroupCreate(x, p), delete: cgroupDelete(p), triggers: [x.host.cpuset, String(x.host.memoryMiB)] },
  ];
  return {
    kind: "native", def: env, acceleration: "none",
    // The same wrapper locally and over SSH (there it runs on the host, before `timeout ... bash -s`).
    target: a.kind === "local" ? { kind: "local", wrap } : { ...hostSshTarget(a), wrap },
    ports: [], dataDir: p.dataDir, workRoot: p.workRoot,
    shape: { cpus: x.host.cpus, memoryMiB: x.host.memoryMiB },
    commands,
    // Facts run where the host is (the planner sends them over SSH for a remote one), through the wrapper.
    facts: nativeFactsScript(p, wrap), spec: p,
  };
}

/** Bash run through the wrapper: what a trial process really gets (CPUs allowed, cgroups, memory limit). */
const LIMITS_PROBE = String.raw`echo "cpusAllowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
m=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' /proc/self/cgroup)
u=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
if [ -n "$m" ] && [ -e "/sys/fs/cgroup/memory$m/memory.limit_in_bytes" ]; then echo "memoryLimit=$(cat "/sys/fs/cgroup/memory$m/memory.limit_in_bytes")"
elif [ -e "/sys/fs/cgroup$u/memory.max" ]; then echo "memoryLimit=$(cat "/sys/fs/cgroup$u/memory.max")"
else echo "memoryLimit=unknown"; fi
echo "cgroups=$(tr '\n' ' ' < /proc/self/cgroup)"`;

/** Host facts as one JSON object: CPU, topology, NUMA, kernel, governor, /dev/kvm, memory, and native's limits. */
export function nativeFactsScript(p: NativePaths, wrap: readonly string[]): string {
  const doc = heredoc(LIMITS_PROBE, "VIRTPERF_PROBE");
  const probe = `${shJoin([...wrap, "bash", "-s"])} ${doc.start}\n${doc.text}`;
  return String.raw`set -uo pipefail
${BASH_JSON_STRING}
num() { [[ "$1" =~ ^[0-9]+$ ]] && printf '%s' "$1" || printf null; }
lscpu_json=$(lscpu -J 2>/dev/null) || lscpu_json=null
lscpu_text=$(lscpu 2>/dev/null) || lscpu_text=""
field() { sed -n "s/^$1:[[:space:]]*//p" <<<"$lscpu_text" | sed -n 1p; }
model=$(field 'Model name')
numa=""; sep=""
for n in /sys/devices/system/node/node[0-9]*; do
  [ -e "$n/cpulist" ] || continue
  numa+="$sep{\"node\":$(num "$(basename "$n" | tr -dc 0-9)"),\"cpus\":$(js "$(cat "$n/cpulist")")}"; sep=,
done
govs=$(cat /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor 2>/dev/null | sort -u | paste -sd' ')
governor=null; [ -z "$govs" ] || governor=$(js "$govs")
kvm_present=false; kvm_usable=false
if [ -e /dev/kvm ]; then kvm_present=true; if (exec 3<>/dev/kvm) 2>/dev/null; then kvm_usable=true; fi; fi
mem_kib=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB$/\1/p' /proc/meminfo)
huge_total=$(sed -n 's/^HugePages_Total:[[:space:]]*//p' /proc/meminfo); huge_kib=$(sed -n 's/^Hugepagesize:[[:space:]]*\([0-9]*\) kB$/\1/p' /proc/meminfo)
state=${shq(p.stateFile)}
mode=$(sed -n 's/^mode=//p' "$state" 2>/dev/null); note=$(sed -n 's/^note=//p' "$state" 2>/dev/null)
limits=""; sep=""
while IFS== read -r k v; do limits+="$sep$(js "$k"):$(js "$v")"; sep=,; done < <(${probe}
)
printf '{"kind":"native","hostname":%s,"kernel":%s,"os":%s,"cpuModel":%s,"sockets":%s,"coresPerSocket":%s,"threadsPerCore":%s,"onlineCpus":%s,' \
  "$(js "$(hostname)")" "$(js "$(uname -r)")" "$(js "$(. /etc/os-release && echo "$PRETTY_NAME")")" "$(js "$model")" \
  "$(num "$(field 'Socket(s)')")" "$(num "$(field 'Core(s) per socket')")" "$(num "$(field 'Thread(s) per core')")" "$(js "$(field 'On-line CPU(s) list')")"
printf '"numa":[%s],"cpufreqGovernor":%s,"devKvmPresent":%s,"devKvmUsable":%s,"memoryMiB":%s,"hugepages":{"total":%s,"sizeKiB":%s},' \
  "$numa" "$governor" "$kvm_present" "$kvm_usable" "$( [ -n "$mem_kib" ] && echo $((mem_kib / 1024)) || echo null)" "$(num "$huge_total")" "$(num "$huge_kib")"
printf '"limits":{"mode":%s,"note":%s,"probe":{%s}},"lscpu":%s}\n' \
  "$( [ -n "$mode" ] && js "$mode" || echo null)" "$( [ -n "$note" ] && js "$note" || echo null)" "$limits" "$lscpu_json"`;
}
