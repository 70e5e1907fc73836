#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian dependencies, then configure and build lbsp in
# build/ (out of tree).  Shared by scripts/demo and scripts/test.
# Extra arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi >/dev/null
fi
mkdir -p build
cd build
if [ ! -f Makefile ] || [ "${LBSP_RECONFIGURE:-1}" = 1 ]; then
	../configure --quiet "$@" >/dev/null
fi
make -j"$(nproc)" >/dev/null
echo "build: lbsp built in $top/build"
