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
