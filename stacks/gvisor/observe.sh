# gVisor's host observations (stacks/gvisor/preflight.ts, runtime.ts): `<key>=<value>` lines. The probe
# starts a throwaway container with each candidate runtime, in the order given, and stops at the first
# that starts: proof that dockerd has the runtime and that runsc's platform and network mode work here.
# Every probe is bounded (VIRTPERF_GVISOR_BOUND_S); what a failed or hung start leaves behind (runsc's
# sandbox and gofer, their containerd shim) is removed by the container's id.

GV_PROBE_IMAGE=virtperf/gvisor-probe:local
declare -A GV_DONE=() GV_BADPLATFORM=()

# gvisor.runtime.<name>=<path> <runtimeArgs...> for every runtime dockerd has.
obs_gvisor_runtimes() {
  local out name rest
  if ! out=$(timeout 20 docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{$v.Path}}{{range $v.Args}} {{.}}{{end}}{{"\n"}}{{end}}' 2>&1); then
    obs gvisor.runtimes.down "$(sed -n '$p' <<<"$out")"; return
  fi
  while read -r name rest; do [ -n "$name" ] && obs "gvisor.runtime.$name" "$rest"; done <<<"$out"
}

# The probe's image: the host's dash and its libraries (no registry, and the tools image may not be
# built yet); removed again by gvisor_probe_end.
gvisor_probe_image() {
  local d f rc libs
  docker image inspect "$GV_PROBE_IMAGE" >/dev/null 2>&1 && return 0
  d=$(mktemp -d) || return 1
  libs=$(ldd /bin/dash 2>/dev/null | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}')
  for f in /bin/dash $libs; do cp --parents -L "$f" "$d/" || { rm -rf "$d"; return 1; }; done
  tar -C "$d" -c . | timeout 60 docker import - "$GV_PROBE_IMAGE" >/dev/null; rc=$?
  rm -rf "$d"
  return $rc
}

# gvisor_clean <container id>: what a failed or hung start leaves: the sandbox in runsc's state (deleted
# with runsc itself), any process still naming the container (runsc, its sandbox and gofer, the shim),
# then the container.
gvisor_clean() {
  local cid=$1 root pids
  for root in /run/docker/runtime-runc/moby /var/run/docker/runtime-runc/moby; do
    [ -d "$root" ] && timeout 10 runsc --root "$root" delete --force "$cid" >/dev/null 2>&1 && break
  done
  pids=$(pgrep -f -- "$cid" 2>/dev/null)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  timeout 20 docker rm --force "$cid" >/dev/null 2>&1
  return 0
}

# Files workloads need that a sandbox may lack: nuttcp 6.1.2's server dies without the first, hpcc's
# Open MPI finds no CPU topology without the second. The probe container checks them, so the planner
# knows before any trial (stacks/gvisor/runtime.ts, workloads' *CannotRun).
GV_PROBE_FILES="/proc/sys/net/ipv4/tcp_adv_win_scale /sys/devices/system/cpu/cpu0/topology/core_id"

# gvisor_probe <runtime> <docker network>: prints `ok <s> s[ missing=<file>...]`, `fail <docker's error>`
# or `timeout <s> s`. The container prints `missing=<file>` for each of GV_PROBE_FILES it cannot read.
gvisor_probe() {
  local rt=$1 net=$2 bound=${VIRTPERF_GVISOR_BOUND_S:-12} cidfile out rc t0 t1 cid
  cidfile=$(mktemp -u /tmp/virtperf-gvisor-probe.XXXXXX)
  t0=${EPOCHREALTIME/[.,]/}
  out=$(timeout -k 3 "$bound" docker run --cidfile "$cidfile" --runtime "$rt" --network "$net" --label virtperf.probe=gvisor "$GV_PROBE_IMAGE" /bin/dash -c 'for f in "$@"; do [ -r "$f" ] || echo "missing=$f"; done' probe $GV_PROBE_FILES 2>&1 </dev/null); rc=$?
  t1=${EPOCHREALTIME/[.,]/}
  cid=$(cat "$cidfile" 2>/dev/null); rm -f "$cidfile"
  if ((rc == 0)); then
    [ -n "$cid" ] && timeout 20 docker rm --force "$cid" >/dev/null 2>&1
    printf 'ok %d.%01d s%s\n' $(((t1 - t0) / 1000000)) $(((t1 - t0) % 1000000 / 100000)) "$(grep -o 'missing=[^[:space:]]*' <<<"$out" | sed 's/^/ /' | tr -d '\n')"
    return 0
  fi
  [ -n "$cid" ] && gvisor_clean "$cid"
  if ((rc == 124 || rc == 137)); then echo "timeout $bound s"; else echo "fail $(sed -n '/[^[:space:]]/p' <<<"$out" | sed -n 1p)"; fi
}

# gvisor_probe_env <docker network> "<platforms>" "<netstacks>": probes runsc-<platform>-<netstack> in
# that order until one starts. A platform that failed as a whole (unknown to this runsc, no start within
# the bound, no /dev/kvm) is not tried again, for any network: its other candidates say `skipped <why>`.
gvisor_probe_env() {
  local net=$1 platforms=$2 netstacks=$3 p n key res
  for p in $platforms; do
    if [ "$p" = kvm ] && [ ! -c /dev/kvm ]; then GV_BADPLATFORM[kvm]="fail /dev/kvm is not a character device"; fi
    if [ -n "${GV_BADPLATFORM[$p]:-}" ]; then
      for n in $netstacks; do obs "gvisor.probe.runsc-$p-$n.$net" "skipped ${GV_BADPLATFORM[$p]}"; done
      continue
    fi
    for n in $netstacks; do
      key="runsc-$p-$n.$net"
      res=${GV_DONE[$key]:-}
      [ -n "$res" ] || { res=$(gvisor_probe "runsc-$p-$n" "$net"); GV_DONE[$key]=$res; }
      obs "gvisor.probe.$key" "$res"
      case $res in
        ok*) return 0 ;;
        timeout*|*"unknown platform"*) GV_BADPLATFORM[$p]=$res; break ;;
      esac
    done
  done
}

gvisor_probe_end() {
  docker image rm "$GV_PROBE_IMAGE" >/dev/null 2>&1
  obs gvisor.probed yes
}
