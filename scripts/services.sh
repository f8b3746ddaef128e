#!/usr/bin/env bash
# Starts the daemons virtperf's environments need, on a machine without systemd (CI, this sandbox):
# dockerd (with gVisor's runsc registered as Docker runtimes), virtlogd, libvirtd and libvirt's "default"
# network. Idempotent: whatever already answers is left alone. Waits until each one answers, prints what it started, and exits non-zero naming what did
# not come up, with its log's tail on stderr.
#
#   scripts/services.sh            all of them
#   scripts/services.sh docker     only dockerd
#   scripts/services.sh libvirt    only virtlogd, libvirtd and the default network
#   scripts/services.sh runtimes   only write the gVisor runtimes into daemon.json (no daemon touched;
#                                  VIRTPERF_DOCKER_DAEMON_JSON names another file)
#
# No pipeline here has a reader that stops early (grep -q, head): under pipefail the writer then dies
# of SIGPIPE and the test reads as false (test/unit/lint/pipefail.test.ts). Outputs are captured first.
set -euo pipefail

log_dir=${VIRTPERF_SERVICES_LOG_DIR:-/var/log}
wait_s=${VIRTPERF_SERVICES_WAIT_S:-60}
uri=qemu:///system
network=default
network_xml=/usr/share/libvirt/networks/default.xml
started=()

say() { echo "services.sh: $*" >&2; }

# wait_for <what> <log file> <command...>: polls the command until it succeeds or wait_s passes; then
# names what it waited for, the command, and the log's tail.
wait_for() {
  local what=$1 logfile=$2; shift 2
  local deadline=$((SECONDS + wait_s))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      say "$what did not answer within ${wait_s}s (waited for: $*)"
      if [ -s "$logfile" ]; then say "last lines of $logfile:"; tail -n 20 "$logfile" >&2
      else say "($logfile is empty or missing)"; fi
      return 1
    fi
    sleep 0.5
  done
}

running() { pgrep -x "$1" >/dev/null; }

daemon_json=${VIRTPERF_DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}

# gVisor: one named Docker runtime per (platform, network mode) the gvisor kind may use,
# runsc-<platform>-<netstack> (stacks/gvisor/runtime.ts ALL_RUNTIMES; a unit test keeps both in step),
# merged into daemon.json: its other keys and runtimes are kept. ("userland-proxy" stays a dockerd flag
# below: dockerd refuses an option given both as a flag and in the file.) Prints "changed" when it wrote
# the file; nothing to do without runsc (the pre-flight names what the gvisor environments miss).
gvisor_runtimes() {
  local runsc current merged runtimes='{}' p n net
  runsc=$(command -v runsc) || return 0
  command -v jq >/dev/null || { say "jq is not installed (apt-get install jq): the gVisor runtimes are not registered"; return 1; }
  for p in systrap kvm ptrace; do
    for n in gvisor host; do
      if [ "$n" = gvisor ]; then net=sandbox; else net=host; fi
      runtimes=$(jq -c --arg name "runsc-$p-$n" --arg path "$runsc" --arg a "--platform=$p" --arg b "--network=$net" \
        '. + {($name): {path: $path, runtimeArgs: [$a, $b]}}' <<<"$runtimes")
    done
  done
  current='{}'
  if [ -s "$daemon_json" ]; then
    current=$(jq -c . "$daemon_json") || { say "$daemon_json is not valid JSON: fix it and run again (the gVisor runtimes are not registered)"; return 1; }
  fi
  merged=$(jq -c --argjson r "$runtimes" '.runtimes = ((.runtimes // {}) + $r)' <<<"$current")
  [ "$(jq -cS . <<<"$merged")" = "$(jq -cS . <<<"$current")" ] && return 0
  mkdir -p "$(dirname "$daemon_json")"
  jq . <<<"$merged" >"$daemon_json.tmp.$$" && mv "$daemon_json.tmp.$$" "$daemon_json" || return 1
  echo changed
}

docker_has_runtime() {
  local r
  r=$(docker info --format '{{json .Runtimes}}' 2>/dev/null) || return 1
  [[ $r == *"\"$1\""* ]]
}

# A running dockerd re-reads daemon.json's runtimes on SIGHUP (its containers keep running).
reload_docker() {
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null) || pid=$(pgrep -x dockerd)
  [ -n "$pid" ] || { say "dockerd answers but its pid is unknown: restart it to load the gVisor runtimes"; return 1; }
  kill -HUP "$pid"
  started+=(docker-runtimes:runsc)
  wait_for "dockerd reloading daemon.json (runtime runsc-ptrace-host)" "$log_dir/dockerd.log" docker_has_runtime runsc-ptrace-host
}

start_docker() {
  local changed
  changed=$(gvisor_runtimes) || return 1
  if docker info >/dev/null 2>&1; then
    if [ -n "$changed" ]; then reload_docker; fi
    return
  fi
  command -v dockerd >/dev/null || { say "dockerd is not installed (apt-get install docker.io)"; return 1; }
  local log=$log_dir/dockerd.log
  if ! running dockerd; then
    # A stale pid file from a killed daemon makes dockerd refuse to start.
    rm -f /var/run/docker.pid
    # --userland-proxy=false: a client on this host then reaches published ports through kernel NAT
    # (iptables DNAT, the study's path) instead of docker-proxy, a user-space relay that measured here
    # 73 us against 19.6 us (NAT) and 19.3 us (native) for a TCP round trip.
    nohup dockerd --userland-proxy=false >"$log" 2>&1 &
    started+=(dockerd)
  fi
  wait_for "dockerd (docker info)" "$log" docker info
}

# The libvirt network's "Active:" field: yes, no, or empty when the network is not defined.
network_active() {
  local info
  info=$(virsh -c "$uri" net-info "$network" 2>/dev/null) || return 0
  sed -n 's/^Active:[[:space:]]*//p' <<<"$info"
}

start_network() {
  local state out
  state=$(network_active)
  if [ -z "$state" ]; then
    # Debian ships the definition; a fresh libvirt may not have defined it yet, or a user removed it.
    [ -r "$network_xml" ] || { say "libvirt has no '$network' network and $network_xml is missing to define it (apt-get install libvirt-daemon-config-network); guests cannot start"; return 1; }
    out=$(virsh -c "$uri" net-define "$network_xml" 2>&1) || { say "virsh net-define $network_xml failed: $out"; return 1; }
    started+=(network-defined:$network)
    state=$(network_active)
  fi
  if [ "$state" = no ]; then
    out=$(virsh -c "$uri" net-start "$network" 2>&1) || {
      say "virsh net-start $network failed: $out"
      say "last lines of $log_dir/libvirt/libvirtd.log:"; tail -n 20 "$log_dir/libvirt/libvirtd.log" >&2 2>/dev/null || true
      return 1
    }
    started+=(network:$network)
  fi
  wait_for "libvirt network '$network' (Active: yes)" "$log_dir/libvirt/libvirtd.log" network_is_active
}
network_is_active() { [ "$(network_active)" = yes ]; }

start_libvirt() {
  command -v libvirtd >/dev/null || { say "libvirtd is not installed (apt-get install libvirt-daemon-system)"; return 1; }
  mkdir -p "$log_dir/libvirt"
  # libvirtd looks for hugetlbfs only when it starts: mount it first, so kvm-tuned's hugepage-backed
  # guests can start (the pages themselves are reserved by the guest's own create script).
  if ! grep -qs ' hugetlbfs ' /proc/mounts; then
    mkdir -p /dev/hugepages
    if mount -t hugetlbfs hugetlbfs /dev/hugepages 2>/dev/null; then started+=(hugetlbfs:/dev/hugepages)
    else say "cannot mount hugetlbfs; kvm-tuned guests (hugepages) will not start"; fi
  fi
  # /dev/kvm as Debian's udev rule leaves it (group kvm, 0660) when no udev ran here (a container, a
  # sandbox): root-only, libvirt sees KVM when it probes QEMU (as root) and not when it checks the device
  # (as libvirt-qemu), calls its capability cache stale, and probes QEMU again on every `virsh define`
  # (40 s here). Whether KVM then WORKS is the KVM proof's to say (stacks/kvm/acceleration.ts).
  if [ -c /dev/kvm ] && ! pgrep -x systemd-udevd >/dev/null && getent group kvm >/dev/null \
    && [ "$(stat -c '%a %U:%G' /dev/kvm)" = "600 root:root" ]; then
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm && started+=(dev-kvm:0660-root:kvm)
  fi
  # Without systemd the daemons would log to a closed stderr: send their logs to files we can show.
  if ! running virtlogd; then
    LIBVIRT_LOG_OUTPUTS="3:file:$log_dir/libvirt/virtlogd.log" virtlogd -d
    started+=(virtlogd)
  fi
  wait_for "virtlogd (its socket)" "$log_dir/libvirt/virtlogd.log" test -S /run/libvirt/virtlogd-sock
  # `virsh list` proves the daemon answers; `virsh version` does too but spends seconds probing QEMU.
  if ! virsh -c "$uri" list --name >/dev/null 2>&1; then
    if ! running libvirtd; then
      rm -f /var/run/libvirtd.pid
      LIBVIRT_LOG_OUTPUTS="3:file:$log_dir/libvirt/libvirtd.log" libvirtd -d
      started+=(libvirtd)
    fi
    wait_for "libvirtd (virsh -c $uri list)" "$log_dir/libvirt/libvirtd.log" virsh -c "$uri" list --name
  fi
  start_network
}

which=${1:-all}
case "$which" in
  all) start_docker; start_libvirt ;;
  docker) start_docker ;;
  libvirt) start_libvirt ;;
  runtimes) changed=$(gvisor_runtimes); if [ -n "$changed" ]; then started+=("runtimes:$daemon_json"); fi ;;
  *) echo "usage: $0 [all|docker|libvirt|runtimes]" >&2; exit 2 ;;
esac

if ((${#started[@]})); then
  echo "services.sh: started ${started[*]}"
else
  echo "services.sh: all running already ($which)"
fi
