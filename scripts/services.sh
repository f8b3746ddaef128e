#!/usr/bin/env bash
# Starts the daemons virtperf's environments need, on a machine without systemd (CI, this sandbox):
# dockerd, virtlogd, libvirtd and libvirt's "default" network. Idempotent: whatever already answers is
# left alone. Waits until each one answers, prints what it started, and exits non-zero naming the
# daemon that did not come up (its log's tail on stderr).
#
#   scripts/services.sh            all of them
#   scripts/services.sh docker     only dockerd
#   scripts/services.sh libvirt    only virtlogd, libvirtd and the default network
set -euo pipefail

log_dir=${VIRTPERF_SERVICES_LOG_DIR:-/var/log}
wait_s=${VIRTPERF_SERVICES_WAIT_S:-60}
started=()

# wait_for <what> <log file> <command...>: polls the command until it succeeds or wait_s passes.
wait_for() {
  local what=$1 logfile=$2; shift 2
  local deadline=$((SECONDS + wait_s))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "services.sh: $what did not answer within ${wait_s}s ($*)" >&2
      [ -f "$logfile" ] && tail -n 20 "$logfile" >&2
      return 1
    fi
    sleep 0.5
  done
}

start_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  command -v dockerd >/dev/null || { echo "services.sh: dockerd not installed (apt-get install docker.io)" >&2; return 1; }
  if ! pgrep -x dockerd >/dev/null; then
    # A stale pid file from a killed daemon makes dockerd refuse to start.
    rm -f /var/run/docker.pid
    # --userland-proxy=false: a client on this host then reaches published ports through kernel NAT
    # (iptables DNAT, the study's path) instead of docker-proxy, a user-space relay that measured here
    # 73 us against 19.6 us (NAT) and 19.3 us (native) for a TCP round trip.
    nohup dockerd --userland-proxy=false >"$log_dir/dockerd.log" 2>&1 &
    started+=(dockerd)
  fi
  wait_for dockerd "$log_dir/dockerd.log" docker info
}

start_libvirt() {
  command -v libvirtd >/dev/null || { echo "services.sh: libvirtd not installed (apt-get install libvirt-daemon-system)" >&2; return 1; }
  # libvirtd looks for hugetlbfs only when it starts: mount it first, so kvm-tuned's hugepage-backed
  # guests can start (the pages themselves are reserved by the guest's own create script).
  if ! grep -q ' hugetlbfs ' /proc/mounts; then
    mkdir -p /dev/hugepages
    if mount -t hugetlbfs hugetlbfs /dev/hugepages 2>/dev/null; then started+=(hugetlbfs:/dev/hugepages)
    else echo "services.sh: cannot mount hugetlbfs; kvm-tuned guests (hugepages) will not start" >&2; fi
  fi
  if ! pgrep -x virtlogd >/dev/null; then
    virtlogd -d
    started+=(virtlogd)
  fi
  if ! virsh -c qemu:///system version >/dev/null 2>&1; then
    if ! pgrep -x libvirtd >/dev/null; then
      rm -f /var/run/libvirtd.pid
      libvirtd -d
      started+=(libvirtd)
    fi
    wait_for libvirtd "$log_dir/libvirt/libvirtd.log" virsh -c qemu:///system version
  fi
  if ! virsh -c qemu:///system net-info default >/dev/null 2>&1; then
    # Debian ships the definition; a fresh libvirt may not have defined it yet.
    local def=/usr/share/libvirt/networks/default.xml
    if [ -r "$def" ] && virsh -c qemu:///system net-define "$def" >/dev/null; then
      started+=(network-defined:default)
    else
      echo "services.sh: libvirt has no 'default' network and $def cannot define it; guests cannot start" >&2
      return 1
    fi
  fi
  if virsh -c qemu:///system net-info default | grep -Eq '^Active:\s+no'; then
    virsh -c qemu:///system net-start default >/dev/null
    started+=(network:default)
  fi
  wait_for "libvirt default network" /dev/null \
    bash -c "virsh -c qemu:///system net-info default | grep -Eq '^Active:\s+yes'"
}

which=${1:-all}
case "$which" in
  all) start_docker; start_libvirt ;;
  docker) start_docker ;;
  libvirt) start_libvirt ;;
  *) echo "usage: $0 [all|docker|libvirt]" >&2; exit 2 ;;
esac

if ((${#started[@]})); then
  echo "services.sh: started ${started[*]}"
else
  echo "services.sh: all running already ($which)"
fi
