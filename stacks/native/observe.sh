# Native's host observations (stacks/native/preflight.ts), for the pre-flight: `<key>=<value>` lines.
# cgroups: v2 controllers available and delegated at the root, or v1 hierarchies writable.
obs_cgroups() {
  local r=/sys/fs/cgroup c
  obs cgroup.fs "$(stat -fc %T $r 2>/dev/null)"
  if [ -r $r/cgroup.controllers ]; then
    obs cgroup.v2.controllers "$(cat $r/cgroup.controllers)"
    obs cgroup.v2.subtreeWritable "$( [ -w $r/cgroup.subtree_control ] && echo yes || echo no)"
  fi
  for c in cpuset memory; do
    if [ -d $r/$c ] && [ -e $r/$c/tasks ]; then obs "cgroup.v1.$c" "$( [ -w $r/$c ] && echo writable || echo read-only)"; fi
  done
}
