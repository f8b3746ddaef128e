# The KVM proof (stacks/preflight/acceleration.ts): prints `kvm.<key>=<value>` lines, stops at the first
# check that fails. Inputs (environment): VIRTPERF_KVM_KERNEL (kernel to boot; else the host's),
# VIRTPERF_KVM_BOUND_S (seconds for the first console line), VIRTPERF_KVM_ACCEL (kvm; tcg only to test
# the boot check itself). No pipeline here has a reader that stops early (pipefail-safe).
kvm_proof() (
  set -u
  local bound=${VIRTPERF_KVM_BOUND_S:-20} accel=${VIRTPERF_KVM_ACCEL:-kvm} kernel=${VIRTPERF_KVM_KERNEL:-}
  say() { printf 'kvm.%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n\r\t' '   ' | tr -cd '[:print:]')"; }

  # 1. cpu-virt: vmx (Intel VT-x) or svm (AMD-V) among the CPU's flags.
  local flags virt="" f
  flags=$(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | sed -n 1p)
  for f in $flags; do case $f in vmx|svm) virt=$f ;; esac; done
  say vendor "$(sed -n 's/^vendor_id[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | sed -n 1p)"
  say cpu "${virt:-none}"
  if [ "$accel" = kvm ] && [ -z "$virt" ]; then return 0; fi

  # 2. kvm-device: a character device, with the modules that made it.
  say modules "$(cd /sys/module 2>/dev/null && ls -d kvm kvm_intel kvm_amd 2>/dev/null | tr '\n' ' ')"
  if [ "$accel" = kvm ]; then
    if [ ! -e /dev/kvm ]; then say device absent; return 0; fi
    if [ ! -c /dev/kvm ]; then say device "not a character device"; return 0; fi
    say device "$(stat -c '%A %U:%G' /dev/kvm)"
  fi

  # 3. qemu-user: the user libvirt runs QEMU as opens /dev/kvm read-write.
  local conf=/etc/libvirt/qemu.conf user group
  user=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$conf" 2>/dev/null | sed -n '$p')
  group=$(sed -n 's/^[[:space:]]*group[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$conf" 2>/dev/null | sed -n '$p')
  user=${user:-libvirt-qemu}
  case $user in +0|root) user=root ;; esac
  local as_user=()
  if [ "$(id -u)" = 0 ] && [ "$user" != root ] && id "$user" >/dev/null 2>&1; then
    group=${group:-$(id -gn "$user")}
    as_user=(setpriv "--reuid=$user" "--regid=$group" --init-groups --)
    say user "$user:$group"
  elif [ "$(id -u)" = 0 ]; then
    say user "root"
  else
    say user "$(id -un) (not root: libvirt's QEMU user $user could not be tested)"
  fi
  if [ "$accel" = kvm ]; then
    if ! "${as_user[@]}" bash -c 'exec 3<>/dev/kvm' 2>/dev/null; then say open denied; return 0; fi
    say open ok
  fi

  # 4. kvm-boot: a throwaway guest prints its first console line within the bound.
  [ -r "$kernel" ] || kernel=/boot/vmlinuz-$(uname -r)
  local tmp want payload args cpu=host
  [ "$accel" = kvm ] || cpu=max
  tmp=$(mktemp -d) || { say boot exited; say stderr "mktemp failed"; return 0; }
  chmod 755 "$tmp"
  if [ -r "$kernel" ] && cp "$kernel" "$tmp/kernel" 2>/dev/null; then
    chmod 644 "$tmp/kernel"; payload="kernel $kernel"; want='Linux version'
    args=(-kernel "$tmp/kernel" -append 'console=ttyS0 earlyprintk=ttyS0 panic=-1' -serial stdio -display none -monitor none)
  else
    payload=firmware; want='SeaBIOS'; args=(-nographic)
  fi
  say payload "$payload"
  local start end pid rc seen=""
  start=${EPOCHREALTIME/[.,]/}
  "${as_user[@]}" timeout -k 2 "$bound" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 256 -smp 1 -no-reboot -net none "${args[@]}" \
    </dev/null >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if grep -a "$want" "$tmp/out" >/dev/null 2>&1; then seen=yes; break; fi
    sleep 0.05
  done
  end=${EPOCHREALTIME/[.,]/}
  grep -a "$want" "$tmp/out" >/dev/null 2>&1 && seen=yes
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null; rc=$?
  say ms "$(( (end - start) / 1000 ))"
  if [ -n "$seen" ]; then
    say boot ok
    say line "$(grep -a "$want" "$tmp/out" | sed -n 1p | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g')"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    say boot timeout
  else
    say boot exited; say rc "$rc"
  fi
  say stderr "$(tail -n 3 "$tmp/err")"
  rm -rf "$tmp"
)
