# KVM's host observations (stacks/kvm/preflight.ts), for the pre-flight: `<key>=<value>` lines; the KVM
# proof itself is kvm-proof.sh.
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
