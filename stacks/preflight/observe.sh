# Host observations for the pre-flight checks (stacks/preflight/checks.ts): prints `<key>=<value>` lines,
# one fact each, and judges nothing. Functions only; preflight.ts adds the calls with their arguments.
# No pipeline here has a reader that stops early (pipefail-safe), and every probe is bounded in time.

obs() { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n\r\t' '   ' | tr -cd '[:print:]')"; }

obs_basics() {
  obs root "$( [ "$(id -u)" = 0 ] && echo yes || echo "no ($(id -un))")"
  obs cpus.online "$(cat /sys/devices/system/cpu/online 2>/dev/null)"
  obs mem.totalKiB "$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB$/\1/p' /proc/meminfo)"
  obs mem.availableKiB "$(sed -n 's/^MemAvailable:[[:space:]]*\([0-9]*\) kB$/\1/p' /proc/meminfo)"
  obs systemd "$( [ -d /run/systemd/system ] && echo yes || echo no)"
}

# obs_tool <command> [probe...]: ok <first line of the probe's output> | missing | broken <output>
obs_tool() {
  local cmd=$1 out rc; shift
  if ! command -v "$cmd" >/dev/null 2>&1; then obs "tool.$cmd" missing; return; fi
  if (($# == 0)); then obs "tool.$cmd" "ok $(command -v "$cmd")"; return; fi
  out=$(timeout 20 bash -c "$*" 2>&1 </dev/null); rc=$?
  if ((rc == 0)); then obs "tool.$cmd" "ok $(sed -n 1p <<<"$out")"; else obs "tool.$cmd" "broken (exit $rc) $(sed -n 1p <<<"$out")"; fi
}

obs_docker() {
  local out
  if ! out=$(timeout 20 docker info --format '{{.ServerVersion}}|{{.Driver}}|{{.CgroupVersion}}|{{.DockerRootDir}}|{{join .Warnings "; "}}' 2>&1); then
    obs docker.down "$(sed -n '$p' <<<"$out")"; return
  fi
  IFS='|' read -r version driver cgroup root warnings <<<"$out"
  obs docker.server "$version"; obs docker.driver "$driver"; obs docker.cgroup "$cgroup"; obs docker.rootDir "$root"
  obs docker.warnings "$warnings"
  local args proxy=default
  args=$(ps -o args= -C dockerd 2>/dev/null)
  case $args in *--userland-proxy=false*) proxy=off ;; *--userland-proxy=true*) proxy=on ;; esac
  if [ "$proxy" = default ] && [ -r /etc/docker/daemon.json ] && grep -E '"userland-proxy"[[:space:]]*:[[:space:]]*false' /etc/docker/daemon.json >/dev/null; then proxy=off; fi
  obs docker.userlandProxy "$proxy"
}

obs_libvirt() {
  local out info
  # `virsh list` proves the daemon answers (`virsh version` does too, but takes seconds probing QEMU).
  if ! out=$(timeout 20 virsh -c qemu:///system list --name 2>&1); then obs libvirt.down "$(sed -n '$p' <<<"$out")"; return; fi
  obs libvirt.version "$(libvirtd --version 2>/dev/null | sed -n 1p)"
  if info=$(timeout 20 virsh -c qemu:///system net-info default 2>/dev/null); then
    obs libvirt.network "$(sed -n 's/^Active:[[:space:]]*//p' <<<"$info")"
  else
    obs libvirt.network undefined
  fi
}

# cgroups: v2 controllers available and delegated at the root, or v1 hierarchies writable.
obs_cgroups() {
  local r=/sys/fs/cgroup
  obs cgroup.fs "$(stat -fc %T $r 2>/dev/null)"
  if [ -r $r/cgroup.controllers ]; then
    obs cgroup.v2.controllers "$(cat $r/cgroup.controllers)"
    obs cgroup.v2.subtreeWritable "$( [ -w $r/cgroup.subtree_control ] && echo yes || echo no)"
  fi
  local c
  for c in cpuset memory; do
    if [ -d $r/$c ] && [ -e $r/$c/tasks ]; then obs "cgroup.v1.$c" "$( [ -w $r/$c ] && echo writable || echo read-only)"; fi
  done
}

# obs_hugepages <MiB>: hugetlbfs mounted, and whether that many MiB of huge pages can really be reserved
# (reserved, counted, and given back at once).
obs_hugepages() {
  local mib=$1 size total need got
  obs hugepages.mounted "$(grep -s ' hugetlbfs ' /proc/mounts >/dev/null && echo yes || echo no)"
  size=$(sed -n 's/^Hugepagesize:[[:space:]]*\([0-9]*\) kB$/\1/p' /proc/meminfo)
  obs hugepages.sizeKiB "$size"
  [ -n "$size" ] && ((mib > 0)) || return 0
  total=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null) || { obs hugepages.reserve "unreadable"; return 0; }
  need=$(( (mib * 1024 + size - 1) / size ))
  if ! echo $((total + need)) >/proc/sys/vm/nr_hugepages 2>/dev/null; then obs hugepages.reserve "denied"; return 0; fi
  got=$(( $(cat /proc/sys/vm/nr_hugepages) - total ))
  echo "$total" >/proc/sys/vm/nr_hugepages 2>/dev/null
  obs hugepages.reserve "$got/$need"
}

# obs_disk <label> <path>: bytes available on the filesystem that holds path (its nearest existing
# parent), that filesystem's device number (labels on one device share its space), and the path.
obs_disk() {
  local label=$1 p=$2 avail
  while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done
  avail=$(df -B1 --output=avail "$p" 2>/dev/null | sed -n 2p | tr -d ' ')
  obs "disk.$label" "${avail:-unknown} $(stat -c %d "$p" 2>/dev/null) $p"
}

# obs_file <label> <path>: present | absent
obs_file() { obs "file.$1" "$( [ -e "$2" ] && echo present || echo absent)"; }
