# Docker's host observations (stacks/docker/preflight.ts), for the pre-flight: `<key>=<value>` lines.
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
