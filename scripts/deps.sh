#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install, from Debian packages, everything lbsp needs to build, test and demo.
# Used by the README's quick start and by .ci/run, so a fresh Debian 12 machine
# and CI install exactly the same set.  Safe to run again: apt skips what is there.
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
       libmnl-dev libnetfilter-queue-dev libcap-dev libmicrohttpd-dev check
       libbpf-dev bpftool llvm"
TOOLS="clang libclang-rt-dev mandoc prometheus
       iproute2 iptables nftables conntrack ethtool procps
       tshark tcpdump iperf3 socat curl nginx-light python3 python3-scapy
       haproxy libcap2-bin kmod bird2 conntrackd
       debhelper dpkg-dev fakeroot lintian systemd util-linux adduser
       qemu-system-x86 busybox-static cpio xz-utils"

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root (it installs Debian packages)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $BUILD $TOOLS >/dev/null
# The kernel matrix's kernels: Debian's own packages, unpacked for qemu
# (tests/vm/kernels.sh; in /var/cache/lbsp-vm).
sh "$(dirname "$0")/../tests/vm/kernels.sh" fetch >/dev/null
echo "deps.sh: build and test dependencies installed"
