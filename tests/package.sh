#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian packages: built as a user would build them -- the standard
# tools (dpkg-buildpackage -us -uc -b, with the package's own test step)
# on a clean export of the tree ("make distdir" into a temporary
# directory: the release's files, no build products, wherever the tree
# lives; nothing is written into the tree) -- lintian clean of errors,
# holding exactly what "make install" installs, and working once
# unpacked:
#   - the package build ran its unit suites and lints (tests/spdx.sh
#     among them) and no end-to-end test (debian/rules leaves them out);
#   - lbspd -n passes on the shipped sample configurations, and on the
#     commented /etc/lbsp/lbsp.conf once each role's section is
#     uncommented; /etc/lbsp/lbsp.conf is a conffile;
#   - systemd-analyze verify accepts both units;
#   - lbspd, started with only the unit's capability bounding set and
#     no-new-privs (setpriv, in a private network namespace), installs its
#     rules, answers lbspctl, and on SIGTERM leaves no rule and no socket;
#   - a program builds and runs against libsp-dev through pkg-config; the
#     shims load;
#   - the dissector sits in tshark's Lua plugin folder and decodes
#     (tests/dissector.sh on the packaged file).
# With LBSP_PKG_INSTALL=1, as root (scripts/test does it), it also
# installs them on this machine with dpkg -i -- user lbsp created,
# lbspd -n on the samples, lbspctl --help, every man page where man
# finds it, dissector loaded from its place, pkg-config finds libsp --
# then purges them, on failure too, and checks the machine is as found.
# Then none of the packages may be installed beforehand: that fails.
# LBSP_PACKAGE_KEEP=DIR keeps the built .deb files in DIR.
# Skips (77) without dpkg-buildpackage / debhelper or the build
# dependencies.  Fails if run by a package build (debian/rules leaves
# PACKAGE_TESTS out: it would build itself again, without end).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
top_srcdir=$(cd "$top_srcdir" && pwd)

if [ -n "${LBSP_IN_PACKAGE_BUILD:-}" ]; then
	echo "FAIL: run by a package build: it would build the package again"
	exit 1
fi
for t in dpkg-buildpackage dpkg-deb dh; do
	command -v $t >/dev/null 2>&1 ||
		{ echo "SKIP: no $t (apt-get install debhelper dpkg-dev)"; exit 77; }
done
[ -d "$top_srcdir/debian" ] || { echo "FAIL: no debian/ in $top_srcdir"; exit 1; }
[ -f "$top_builddir/Makefile" ] ||
	{ echo "FAIL: no configured build in $top_builddir (run it by make check)"; exit 1; }

tmp=$(mktemp -d) || exit 1
installed=""
rundir=""
user_made=0
# The user and group lbspd's postinst made, if it made them (Debian keeps
# system users on purge).  -f: a daemon started meanwhile by someone
# else may already run as lbsp; it must not keep the user here.
remove_user() {
	[ "$user_made" = 1 ] || return 0
	user_made=0
	userdel -f lbsp >/dev/null 2>&1
	groupdel lbsp >/dev/null 2>&1
	! getent passwd lbsp >/dev/null || echo "package: could not remove user lbsp"
}
cleanup() {
	if [ -n "$installed" ]; then
		# shellcheck disable=SC2086
		dpkg --purge $installed >/dev/null 2>&1
		remove_user
	fi
	rm -rf "$tmp" ${rundir:+"$rundir"}
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; exit 1; }
log() { echo "package: $*"; }

# ---------------------------------------------------------------- build
# The export: what "make dist" puts in the tarball, in $tmp/src, made by
# the configured build (not by the make check running this test: none
# of its settings).  dpkg-buildpackage writes into it and next to it.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
    make -s -C "$top_builddir" distdir distdir="$tmp/src" \
    >"$tmp/distdir.log" 2>&1 ||
	fail "make distdir: $(tail -20 "$tmp/distdir.log")"
cd "$tmp/src" || exit 1
[ -f debian/rules ] && [ -f MANIFEST ] || fail "the export has no debian/rules or MANIFEST"
dpkg-checkbuilddeps >"$tmp/deps" 2>&1 ||
	{ echo "SKIP: $(cat "$tmp/deps")"; exit 77; }

# One version: configure's and the package's.
acver=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)
debver=$(dpkg-parsechangelog -S Version)
[ "$acver" = "$debver" ] ||
	fail "configure.ac says $acver, debian/changelog $debver"

# The build as a user runs it, in a clean environment: nothing of this
# test's make check (MAKEFLAGS and its TESTS=, top_srcdir, LBSP_*) may
# reach the package build's own make check.
start=$(date +%s)
env -i PATH="$PATH" HOME="$tmp" TMPDIR="${TMPDIR:-/tmp}" LC_ALL=C.UTF-8 \
    DEB_BUILD_OPTIONS="parallel=$(nproc) noddebs" \
    timeout 1200 dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1 || {
	grep -E '^(FAIL|ERROR):' "$tmp/build.log"
	for t in $(sed -n 's/^\(FAIL\|ERROR\): \([^ ]*\).*/\2/p' "$tmp/build.log"); do
		echo "---- $t.log"
		tail -20 "$tmp/src/$t.log" 2>/dev/null
	done
	echo "---- dpkg-buildpackage"
	tail -30 "$tmp/build.log"
	fail "dpkg-buildpackage -us -uc -b failed (log above)"
}
log "built in $(($(date +%s) - start)) s"
# Its test step ran the suites a build machine can run, and no test
# that needs root and namespaces, a kernel matrix or this test.
for t in tests/unit/check_libsp tests/spdx.sh tests/man-lint.sh \
    tests/lbspd-check.sh; do
	grep -q "^PASS: $t\$" "$tmp/build.log" ||
		fail "the package build's test step did not pass $t"
done
if grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS): tests/(netns/|vm/|package)' \
    "$tmp/build.log" >"$tmp/ran"; then
	fail "the package build ran what debian/rules leaves out:
$(cat "$tmp/ran")"
fi
log "package build's test step: $(grep -c '^PASS: ' "$tmp/build.log") passed," \
    "no end-to-end test"
cd "$tmp" || exit 1
pkgs="lbspd libsp2 libsp-dev lbsp-shims lbsp-wireshark"
debs=""
for p in $pkgs; do
	f=$(ls "$tmp"/${p}_*.deb 2>/dev/null)
	[ -f "$f" ] || fail "no $p package built"
	debs="$debs $f"
done
if [ -n "${LBSP_PACKAGE_KEEP:-}" ]; then
	mkdir -p "$LBSP_PACKAGE_KEEP" && cp $debs "$LBSP_PACKAGE_KEEP"/
fi

# ---------------------------------------------------------------- lintian
if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error "$tmp"/lbsp_*.changes >"$tmp/lintian" 2>&1
	rc=$?
	log "lintian: $(grep -c '^E:' "$tmp/lintian") errors," \
	    "$(grep -c '^W:' "$tmp/lintian") warnings"
	[ $rc -eq 0 ] && ! grep -q '^E:' "$tmp/lintian" ||
		fail "lintian: $(grep '^E:' "$tmp/lintian")"
else
	log "lintian not installed: not run"
fi

# ---------------------------------------------------------------- contents
root="$tmp/root"
mkdir -p "$root"
for f in $debs; do
	dpkg-deb -x "$f" "$root" || fail "dpkg-deb -x $f"
done
# What make install put in debian/tmp (libtool .la files aside, removed
# by debian/rules) is what the packages hold, and nothing else but
# Debian's own documentation files; man pages are compressed.
( cd "$tmp/src/debian/tmp" && find . ! -type d | sed 's|^\./||' | sort ) \
    >"$tmp/make-install"
( cd "$root" && find . ! -type d | sed 's|^\./||' |
    grep -Ev '^usr/share/doc/[^/]+/(copyright|changelog(\.Debian)?\.gz)$|^usr/share/lintian/overrides/' |
    sed 's|^\(usr/share/man/.*\)\.gz$|\1|' | sort ) >"$tmp/packaged"
diff "$tmp/make-install" "$tmp/packaged" >"$tmp/diff" ||
	fail "make install and the packages differ (< make install, > packages):
$(cat "$tmp/diff")"
[ -s "$tmp/packaged" ] || fail "the packages are empty"
log "packages hold the $(wc -l <"$tmp/packaged") files make install installs"

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lbspd="$root/usr/sbin/lbspd"
for f in "$lbspd" "$root/usr/sbin/lbspctl" "$root/usr/sbin/lbsp-agent" \
    "$root/etc/lbsp/lbsp.conf" "$root/usr/lib/$ma/libsp.so.2" \
    "$root/usr/lib/$ma/pkgconfig/libsp.pc" "$root/usr/include/sp/dopt.h" \
    "$root/usr/lib/$ma/liblbsp-client.so" "$root/usr/lib/$ma/liblbsp-server.so" \
    "$root/lib/systemd/system/lbspd.service" \
    "$root/lib/systemd/system/lbspd@.service" \
    "$root/usr/share/man/man8/lbspd.8.gz"; do
	[ -e "$f" ] || fail "not packaged: ${f#"$root"}"
done
dpkg-deb -e "$tmp"/lbspd_*.deb "$tmp/ctl" || fail "dpkg-deb -e"
grep -qx /etc/lbsp/lbsp.conf "$tmp/ctl/conffiles" ||
	fail "/etc/lbsp/lbsp.conf is not a conffile"

# Every sample configuration of the tree is shipped, and passes.
export LD_LIBRARY_PATH="$root/usr/lib/$ma"
n=0
for conf in "$top_srcdir"/examples/*.conf; do
	shipped="$root/usr/share/doc/lbspd/examples/$(basename "$conf")"
	[ -f "$shipped" ] || fail "sample $(basename "$conf") not shipped"
	out=$("$lbspd" -n -c "$shipped" 2>&1) || fail "$shipped: $out"
	[ "$out" = "configuration OK" ] || fail "$shipped: $out"
	n=$((n + 1))
done
[ $n -ge 3 ] || fail "only $n sample configurations"
# The commented lbsp.conf is inert as shipped, and right once a role's
# section (and the common one) is uncommented.
"$lbspd" -n -c "$root/etc/lbsp/lbsp.conf" >/dev/null 2>&1 &&
	fail "the shipped /etc/lbsp/lbsp.conf already configures a role"
for role in client server balancer; do
	awk -v want="$role:" '
	    /^# --- / { sect = $3 }
	    (sect == "every" || sect == want) && /^#[a-z}\t]/ { print substr($0, 2); next }
	    { print }' "$root/etc/lbsp/lbsp.conf" |
	    sed "s/^role client/role $role/" >"$tmp/$role.conf"
	grep -q "^role $role" "$tmp/$role.conf" || fail "lbsp.conf: no role line"
	out=$("$lbspd" -n -c "$tmp/$role.conf" 2>&1) ||
		fail "lbsp.conf with the $role section uncommented: $out"
done
log "lbspd -n: $n samples and the commented lbsp.conf (3 roles) OK"

# ---------------------------------------------------------------- units
units="$root/lib/systemd/system"
for u in lbspd.service lbspd@.service; do
	for key in 'Type=simple' 'ExecStart=/usr/sbin/lbspd -f -c /etc/lbsp/' \
	    'ExecReload=/bin/kill -HUP $MAINPID' 'RuntimeDirectory=lbsp' \
	    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
	    'CapabilityBoundingSet=CAP_NET_ADMIN ' 'Group=lbsp'; do
		grep -qF "$key" "$units/$u" || fail "$u: no '$key'"
	done
	grep -q '@[a-z]*@' "$units/$u" && fail "$u: unsubstituted: $(grep '@[a-z]*@' "$units/$u")"
done
grep -qF -- '-s /run/lbsp/%i.sock' "$units/lbspd@.service" ||
	fail "lbspd@.service: no per-instance control socket"
if command -v systemd-analyze >/dev/null 2>&1; then
	# The units name /usr/sbin/lbspd: point them at the unpacked one.
	mkdir -p "$tmp/units"
	sed "s|/usr/sbin/|$root/usr/sbin/|g" "$units/lbspd.service" \
	    >"$tmp/units/lbspd.service"
	sed "s|/usr/sbin/|$root/usr/sbin/|g" "$units/lbspd@.service" \
	    >"$tmp/units/lbspd@test.service"
	for u in lbspd.service lbspd@test.service; do
		MANPATH="$root/usr/share/man" systemd-analyze verify \
		    "$tmp/units/$u" >"$tmp/verify" 2>&1 ||
			fail "systemd-analyze verify $u: $(cat "$tmp/verify")"
		[ -s "$tmp/verify" ] &&
			fail "systemd-analyze verify $u: $(cat "$tmp/verify")"
	done
	log "systemd-analyze verify: both units clean"
else
	log "no systemd-analyze: units not verified"
fi

# lbspd under the unit's restrictions: its bounding set, no-new-privs.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$units/lbspd.service" |
	    tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
	# The socket's directory as the unit makes it: root, group of the
	# user lbspd drops to, 0770 -- so that it can remove the socket.
	u=lbsp
	getent passwd lbsp >/dev/null || u=nobody
	rundir=$(mktemp -d /tmp/lbsp-run.XXXXXX) || exit 1
	chgrp "$(id -gn "$u")" "$rundir" && chmod 0770 "$rundir" ||
		fail "preparing $rundir"
	cat >"$tmp/run.sh" <<EOF
ip link set lo up
sock="$rundir/lbspd.sock"
setpriv --no-new-privs --bounding-set=-all,$caps \
    "$lbspd" -f -c "$root/usr/share/doc/lbspd/examples/client.conf" \
    -s "\$sock" </dev/null >/dev/null 2>"$tmp/lbspd.log" &
pid=\$!
# Never leave it running (it would also hold our output open).
trap 'kill -TERM \$pid 2>/dev/null; wait \$pid 2>/dev/null' EXIT
# 30 s: the self-test and the tc programs' verifier load take seconds
# each on a busy machine.
i=0
until "$root/usr/sbin/lbspctl" -s "\$sock" stats >"$tmp/stats" 2>&1 &&
    grep -q " running as " "$tmp/lbspd.log"; do
	i=\$((i + 1))
	kill -0 \$pid 2>/dev/null && [ \$i -lt 300 ] || { echo "lbspd did not come up"; exit 1; }
	sleep 0.1
done
# Steering rules, or the tc datapath (datapath auto) and then none.
if grep -q "datapath: client tc" "$tmp/lbspd.log"; then
	ip6tables-save | grep -q LBSP-q && { echo "rules installed on tc"; exit 1; }
else
	ip6tables-save | grep -q LBSP-q || { echo "no rules installed"; exit 1; }
fi
# The self-test needs its private namespace (CAP_SYS_ADMIN at start).
if grep "no private network namespace" "$tmp/lbspd.log"; then exit 1; fi
kill -TERM \$pid
wait \$pid
rc=\$?
trap - EXIT
[ \$rc -eq 0 ] || { echo "lbspd exited \$rc on SIGTERM"; exit 1; }
if ip6tables-save | grep LBSP; then echo "rules left behind"; exit 1; fi
[ ! -e "\$sock" ] || { echo "control socket left behind"; exit 1; }
exit 0
EOF
	out=$(unshare -n sh "$tmp/run.sh" 2>&1) ||
		fail "lbspd with the unit's capabilities ($caps): $out
$(cat "$tmp/lbspd.log" 2>/dev/null)"
	log "lbspd under CapabilityBoundingSet + no-new-privs: up, rules, clean stop"
else
	log "not root or no setpriv/unshare: restricted run not tested"
fi

# ---------------------------------------------------------------- libsp-dev, shims
cc=${CC:-cc}
if command -v "$cc" >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1; then
	cat >"$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sp/conf.h>
#include <sp/pkt.h>
int
main(void)
{
	static const char text[] = "role client\nvip 2001:db8::1 {\n}\n";
	struct sp_conf *c = sp_conf_new();

	if (c == NULL || sp_conf_parse(text, sizeof(text) - 1, "t", c, NULL,
	    NULL) != 0 || sp_conf_vip_count(c) != 1 ||
	    sp_conf_vip_scheduler(sp_conf_vip_at(c, 0)) != SP_CONF_SCHED_RR)
		return 1;
	sp_conf_free(c);
	puts(sp_strerror(SP_ERR_TRUNCATED));
	return strcmp(sp_strerror(SP_OK), sp_strerror(SP_ERR_TRUNCATED)) == 0;
}
EOF
	flags=$(PKG_CONFIG_PATH="$root/usr/lib/$ma/pkgconfig" \
	    PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags --libs libsp) ||
		fail "pkg-config libsp"
	# shellcheck disable=SC2086
	"$cc" -o "$tmp/prog" "$tmp/prog.c" $flags 2>"$tmp/cc.log" ||
		fail "building against libsp-dev: $(cat "$tmp/cc.log")"
	out=$("$tmp/prog") || fail "program linked with libsp: $out"
	[ -n "$out" ] || fail "program linked with libsp printed nothing"
	log "libsp-dev: pkg-config, headers, conf accessors, libsp.so.2 OK"
fi
for s in client server; do
	LD_PRELOAD="$root/usr/lib/$ma/liblbsp-$s.so" /bin/true 2>"$tmp/shim" ||
		fail "liblbsp-$s.so does not load: $(cat "$tmp/shim")"
done

# ---------------------------------------------------------------- dissector
lua=$(cd "$root" && find . -name lbsp.lua | sed 's|^\.||')
[ -n "$lua" ] || fail "no lbsp.lua packaged"
if command -v tshark >/dev/null 2>&1; then
	global=$(HOME="$tmp" tshark -G folders 2>/dev/null |
	    sed -n 's/^Global Lua Plugins:[[:space:]]*//p')
	[ "$lua" = "$global/lbsp.lua" ] ||
		fail "lbsp.lua packaged as $lua; tshark loads Lua plugins from $global"
	LBSP_LUA="$root$lua" sh "$top_srcdir/tests/dissector.sh" >"$tmp/dis" 2>&1
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 77 ] || fail "packaged dissector: $(cat "$tmp/dis")"
	log "dissector at $lua: $(tail -1 "$tmp/dis")"
fi

# ---------------------------------------------------------------- dpkg -i
unset LD_LIBRARY_PATH
# What dpkg knows of every package, and the lbsp user and group.
host_state() {
	dpkg-query -W -f='${binary:Package} ${Version} ${db:Status-Abbrev}\n' |
	    awk '$3 != "un" && $3 != "pn"' | sort
	getent passwd lbsp
	getent group lbsp
	ls -d /etc/lbsp 2>/dev/null
}
if [ "$(id -u)" -ne 0 ]; then
	log "not root: dpkg -i not tried"
elif [ "${LBSP_PKG_INSTALL:-0}" != 1 ]; then
	# Installing creates the system user lbsp for a while: namespace
	# tests running beside this one would see their daemons become lbsp
	# instead of nobody.  The packages were checked in a throwaway root
	# above; LBSP_PKG_INSTALL=1 installs them on this machine too, and
	# scripts/test runs this test alone.
	log "dpkg -i on this machine not tried (LBSP_PKG_INSTALL=1 does it)"
else
	# shellcheck disable=SC2086
	here=$(dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev}\n' $pkgs \
	    2>/dev/null | awk '$2 != "un" && $2 != "pn"')
	[ -z "$here" ] || fail "lbsp packages already on this machine: $here"
	# shellcheck disable=SC2086
	dpkg --dry-run -i $debs >"$tmp/dry" 2>&1 ||
		fail "dpkg -i would fail here (scripts/deps.sh installs what the packages need): $(tail -5 "$tmp/dry")"
	host_state >"$tmp/host.before"
	getent passwd lbsp >/dev/null || user_made=1
	installed="$pkgs"
	# shellcheck disable=SC2086
	dpkg -i $debs >"$tmp/dpkg" 2>&1 || fail "dpkg -i: $(cat "$tmp/dpkg")"
	# shellcheck disable=SC2086
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' $pkgs)
	[ "$st" = "$(for p in $pkgs; do printf 'ii '; done)" ] ||
		fail "dpkg -i: not all installed: $(dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev}\n' $pkgs)"
	getent passwd lbsp >/dev/null || fail "postinst made no user lbsp"
	getent group lbsp >/dev/null || fail "postinst made no group lbsp"
	dpkg-query -W -f='${Conffiles}\n' lbspd | grep -q '/etc/lbsp/lbsp.conf' ||
		fail "dpkg does not list /etc/lbsp/lbsp.conf as a conffile"
	# The installed programs run from their place.
	n=0
	for conf in /usr/share/doc/lbspd/examples/*.conf; do
		[ -f "$conf" ] || continue
		out=$(/usr/sbin/lbspd -n -c "$conf" 2>&1) || fail "$conf: $out"
		[ "$out" = "configuration OK" ] || fail "lbspd -n -c $conf: $out"
		n=$((n + 1))
	done
	[ $n -ge 3 ] || fail "only $n sample configurations installed"
	out=$(/usr/sbin/lbspctl --help 2>&1) || fail "lbspctl --help: $out"
	case "$out" in
	"usage: lbspctl "*) ;;
	*) fail "lbspctl --help: $out" ;;
	esac
	# Every man page of the tree, where man looks for it.
	n=0
	for page in "$top_srcdir"/man/*.[1-9]; do
		name=$(basename "$page")
		sect=${name##*.}
		f=/usr/share/man/man$sect/$name.gz
		[ -s "$f" ] || fail "man page $name not installed ($f)"
		if command -v man >/dev/null 2>&1; then
			got=$(man -w "$sect" "${name%.*}" 2>&1)
			[ "$got" = "$f" ] || fail "man -w $sect ${name%.*}: $got"
		fi
		n=$((n + 1))
	done
	[ $n -ge 6 ] || fail "only $n man pages in $top_srcdir/man"
	pkg-config --exists libsp || fail "pkg-config does not find the installed libsp"
	ldconfig -p | grep -q 'liblbsp-client.so ' ||
		fail "ldconfig does not know liblbsp-client.so"
	if command -v systemd-analyze >/dev/null 2>&1; then
		systemd-analyze verify /lib/systemd/system/lbspd.service \
		    >"$tmp/verify" 2>&1 && [ ! -s "$tmp/verify" ] ||
			fail "installed unit: $(cat "$tmp/verify")"
	fi
	if command -v tshark >/dev/null 2>&1; then
		# No -X, no personal folder: tshark finds it where it was put.
		got=$(HOME="$tmp" tshark -G fields 2>/dev/null | grep -c '	lbsp\.seg[12]	')
		[ "$got" = 2 ] || fail "installed tshark does not load lbsp.lua"
	fi
	# shellcheck disable=SC2086
	dpkg --purge $pkgs >"$tmp/dpkg" 2>&1 || fail "dpkg --purge: $(cat "$tmp/dpkg")"
	installed=""
	remove_user
	[ ! -e /etc/lbsp/lbsp.conf ] || fail "purge left /etc/lbsp/lbsp.conf"
	[ ! -e /usr/sbin/lbspd ] || fail "purge left /usr/sbin/lbspd"
	# As found: the same packages at the same versions and states, the
	# same user and group, no /etc/lbsp.
	host_state >"$tmp/host.after"
	diff "$tmp/host.before" "$tmp/host.after" >"$tmp/host.diff" ||
		fail "the machine is not as found after the purge (< before, > after):
$(cat "$tmp/host.diff")"
	log "dpkg -i: user lbsp, conffile, lbspd -n on the samples, lbspctl" \
	    "--help, $n man pages, pkg-config, ldconfig, unit, dissector OK;" \
	    "purged, machine as found"
fi

echo "package: ok"
