#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/vm.sh SERIES OUT SCRIPT [ARG...] -- boot Debian's kernel of
# SERIES (tests/vm/kernels.sh) in qemu and run "sh SCRIPT ARG..." in it,
# as root, in the directory this was started from.
#
# The guest is this host: its root file system shared read-only over
# 9p, so the guest runs the very binaries and tests just built.  The
# guest caches what it reads and never looks again (cache=loose: without
# it every program started in a test is read anew over 9p, and a test
# takes four times as long): nothing may be rebuilt while a guest runs.  What
# the guest may write: tmpfs on /tmp, /run, /var/lib and /var/log (HOME
# is /run/home: the tree may be under /root, as CI's is), and OUT, a host
# directory shared read-write,
# where SCRIPT's output goes (OUT/log, its exit status OUT/rc) and the
# console (OUT/console).  bpffs is mounted as systemd mounts it on
# Debian 12 (mode 0700).  Modules load from the unpacked package:
# kernel.modprobe is a modprobe with that module directory.
#
# qemu runs under TCG: nested KVM hangs on the machines this runs on
# (LBSP_VM_ACCEL=kvm to try it).  LBSP_VM_TIMEOUT bounds the guest
# (seconds, default 1800).  Exit status: SCRIPT's, or 1 when the guest
# did not finish.
set -eu

[ $# -ge 3 ] || { echo "usage: vm.sh SERIES OUT SCRIPT [ARG...]" >&2; exit 2; }
series=$1 out=$2 script=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
: "${LBSP_VM_DIR:=/var/cache/lbsp-vm}"
: "${LBSP_VM_TIMEOUT:=1800}"
: "${LBSP_VM_ACCEL:=tcg}"
: "${LBSP_VM_MEM:=3072}"

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	{ echo "vm.sh: no qemu-system-x86_64 (scripts/deps.sh)" >&2; exit 1; }
[ -x /bin/busybox ] ||
	{ echo "vm.sh: no /bin/busybox (busybox-static; scripts/deps.sh)" >&2; exit 1; }
ver=$(LBSP_VM_DIR=$LBSP_VM_DIR sh "$here/kernels.sh" version "$series")
root=$LBSP_VM_DIR/$ver
mods=$root/lib/modules/$ver
case $script in /*) ;; *) script=$(pwd)/$script ;; esac

# The initramfs: busybox, an init that mounts the host's root over 9p
# and starts lbsp.init= from the command line, and the modules that
# takes where the kernel does not have them built in (in the order of
# their dependencies).  Named by its init's checksum: a changed init
# makes a new one.
init_text=$(cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m.ko; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose \
    hostroot /newroot || { echo "init: cannot mount the host's root"; poweroff -f; }
for f in proc sys dev; do mount --move /$f /newroot/$f; done
exec switch_root /newroot /bin/sh -c 'exec sh "$(sed \
    "s/.*lbsp.init=\([^ ]*\).*/\1/" /proc/cmdline)"'
EOF
)
sum=$(printf '%s' "$init_text" | cksum | cut -d' ' -f1)
initrd=$LBSP_VM_DIR/initrd-$ver-$sum.gz
if [ ! -f "$initrd" ]; then
	rm -f "$LBSP_VM_DIR/initrd-$ver-"*.gz	# an older init's
	d=$(mktemp -d)
	mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev" "$d/newroot" "$d/mods"
	cp /bin/busybox "$d/bin/busybox"
	: >"$d/mods/order"
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
	    virtio_pci netfs fscache 9pnet 9pnet_virtio 9p; do
		f=$(grep -E "(^|/)$m\.ko(\.xz)?:" "$mods/modules.dep" | cut -d: -f1)
		[ -n "$f" ] || continue		# built in
		case $f in
		*.xz) xz -dc "$mods/$f" >"$d/mods/$m.ko" ;;
		*) cp "$mods/$f" "$d/mods/$m.ko" ;;
		esac
		echo "$m" >>"$d/mods/order"
	done
	printf '%s\n' "$init_text" >"$d/init"
	chmod 0755 "$d/init"
	(cd "$d" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$d"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/log" "$out/rc" "$out/console"
# What runs first in the guest, kept in OUT (the host's root is
# read-only there, and OUT is the guest's /run/lbsp-vm/out).
cat >"$out/init.sh" <<EOF
#!/bin/sh
export PATH=/run/lbsp-vm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/run/home LBSP_VM_GUEST=$series LBSP_VM_KERNEL=$ver
for d in /tmp /run /var/lib /var/log; do mount -t tmpfs tmpfs \$d; done
mkdir -p /run/lbsp-vm/out /run/lbsp-vm/bin /run/netns /run/lock /run/home
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /run/lbsp-vm/out
cat >/run/lbsp-vm/bin/modprobe <<'EOM'
#!/bin/sh
exec /usr/sbin/modprobe -d $root "\$@"
EOM
chmod 0755 /run/lbsp-vm/bin/modprobe
echo /run/lbsp-vm/bin/modprobe >/proc/sys/kernel/modprobe
mount -t bpf -o mode=0700 bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up
cd "$(pwd)" || cd /
sh "$script" $* >/run/lbsp-vm/out/log 2>&1
echo \$? >/run/lbsp-vm/out/rc
sync
poweroff -f
EOF

# -cpu max: every instruction TCG can emulate (its default CPU has no
# SSE4 or POPCNT, on which libFuzzer's runtime dies at its first input).
accel=$LBSP_VM_ACCEL
timeout "$LBSP_VM_TIMEOUT" qemu-system-x86_64 -accel "$accel" -cpu max -smp 2 \
    -m "$LBSP_VM_MEM" -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$root/boot/vmlinuz-$ver" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 quiet lbsp.init=$out/init.sh" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs local,path="$out",mount_tag=out,security_model=none \
    >"$out/console" 2>&1 </dev/null || true
[ -f "$out/rc" ] || {
	echo "vm.sh: the $ver guest did not finish in ${LBSP_VM_TIMEOUT} s (console: $out/console)" >&2
	tail -n 20 "$out/console" >&2
	exit 1
}
exit "$(cat "$out/rc")"
