# Rootless Podman's host observations (stacks/podman/preflight.ts), for the pre-flight: `<key>=<value>` lines.
# obs_podman <user> <image> <podman as the user...>: the user (uid, home), its subordinate ranges, a real
# `podman info` as the user and whether the tools image is in its storage; /dev/net/tun (slirp4netns opens
# it as the user), the cgroup2 hierarchy's controllers (crun refuses a hybrid host that has any) and
# catatonit (the container's init, --init).
obs_podman() {
  local user=$1 image=$2 out home; shift 2
  obs podman.tun "$(stat -c %a /dev/net/tun 2>/dev/null || echo absent)"
  obs podman.cgroupFs "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)"
  obs podman.unifiedControllers "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)"
  obs podman.catatonit "$( [ -x /usr/libexec/podman/catatonit ] && echo present || echo absent)"
  if ! id -u "$user" >/dev/null 2>&1; then
    obs "podman.user.$user" absent; obs_disk podmanRoot "/var/lib/$user"; return
  fi
  home=$(getent passwd "$user" | cut -d: -f6)
  obs "podman.user.$user" "uid $(id -u "$user") home $home"
  obs "podman.subuid.$user" "$(sed -n "s/^$user:\([0-9]*:[0-9]*\)$/\1/p" /etc/subuid 2>/dev/null | tr '\n' ' ')"
  obs "podman.subgid.$user" "$(sed -n "s/^$user:\([0-9]*:[0-9]*\)$/\1/p" /etc/subgid 2>/dev/null | tr '\n' ' ')"
  if out=$(timeout 30 "$@" info --format '{{.Version.Version}}|{{.Host.Security.Rootless}}|{{.Store.GraphDriverName}}|{{.Store.GraphRoot}}|{{.Host.CgroupsVersion}}|{{.Host.CgroupManager}}|{{range .Host.CgroupControllers}}{{.}} {{end}}' 2>&1); then
    obs "podman.info.$user" "$out"
    obs_disk podmanRoot "$(cut -d'|' -f4 <<<"$out")"
    obs "podman.image.$user" "$(timeout 30 "$@" image exists "$image" >/dev/null 2>&1 && echo present || echo absent)"
  else
    obs "podman.down.$user" "$(sed -n '$p' <<<"$out")"; obs_disk podmanRoot "$home"
  fi
}
