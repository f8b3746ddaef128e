/**
 * The lifeline (issue 10, processes): whatever kills the runner, nothing it started on the far side
 * outlives it by more than a few seconds.
 *
 * GNU `timeout` puts itself and the trial in a process group of their own, so a terminal's kill of the
 * runner's group never reaches them, and neither sshd nor `docker exec` signals a command whose client
 * went away. What every transport does pass on is end-of-file on stdin. So the runner sends the script
 * framed (`virtperf-frame <bytes>` then the script) and keeps stdin open while the script runs; the
 * supervisor below, the first thing on the far side, reads the script, runs it under `timeout` and
 * watches the rest of stdin. EOF before the script ended means the runner is gone (or asked to stop):
 * the trial's whole process group gets TERM, 5 s of grace, then KILL. When the script ends on its own,
 * whatever it left in its group (a server, a stray background job) is stopped the same way, so a
 * trial shell never leaves anything behind. The exit code is `timeout`'s: 124/137 still mean "timed out".
 *
 * The lifeline is also fd 3 of the script, so a hop (docker exec or ssh on a remote host) can hand it on
 * to the next trial shell. Input that is not framed (a person or a test piping a plain script) runs the
 * same way without a lifeline.
 */

/** First line of a framed script: the script's length in bytes follows. */
export const FRAME = "virtperf-frame";

/** The bytes the runner writes first on a trial shell's stdin: the frame line, then the script. */
export function frame(script: string): string {
  return `${FRAME} ${Buffer.byteLength(script)}\n${script}`;
}

/**
 * Bash run by `bash -c` on the far side with `$1` = the time limit (s) and `$2` = the limits prelude.
 * `live` scans /proc for live (not zombie) members of the trial's group without a fork per process.
 */
export const SUPERVISOR = String.raw`IFS= read -r head || [ -n "$head" ] || exit 125
lifeline=
if [[ $head =~ ^${FRAME}\ ([0-9]+)$ ]]; then
  s=; n=${"${BASH_REMATCH[1]}"}
  if [ "$n" -gt 0 ] && ! IFS= read -r -N "$n" s; then echo "virtperf trial shell: the script was cut short" >&2; exit 125; fi
  lifeline=1; exec 3<&0
else
  s=$head$'\n'$(cat)
fi
exec 0</dev/null
g=
live() { local f st; for f in /proc/[0-9]*/stat; do IFS= read -r st 2>/dev/null <"$f" || continue; st=${"${st##*) }"}; set -- $st; [ "$3" = "$g" ] && [ "$1" != Z ] && return 0; done; return 1; }
sweep() {
  kill -0 -- "-$g" 2>/dev/null && live || return 0
  kill -TERM -- "-$g" 2>/dev/null
  for _ in {1..50}; do live || return 0; sleep 0.1; done
  kill -KILL -- "-$g" 2>/dev/null; return 0
}
timeout -k 5 "$1" bash --noprofile --norc -c "$2; exec bash --noprofile --norc -s" <<<"$s" & g=$!
if [ -z "$lifeline" ]; then wait "$g" 2>/dev/null; rc=$?; sweep; exit "$rc"; fi
cat <&3 >/dev/null 2>&1 & w=$!
wait -n 2>/dev/null; rc=$?
if kill -0 "$w" 2>/dev/null; then kill "$w" 2>/dev/null; wait "$w" 2>/dev/null; sweep; exit "$rc"; fi
kill -TERM "$g" 2>/dev/null; sweep; wait "$g" 2>/dev/null; exit 129`;
