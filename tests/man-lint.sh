#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every man page is clean under mandoc's linter (warnings included).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
if [ -z "${MANDOC:-}" ]; then
	MANDOC=$(command -v mandoc) || { echo "man-lint: no mandoc; skipped"; exit 77; }
fi
rc=0
n=0
for page in "$top_srcdir"/man/*.[1-9]; do
	n=$((n + 1))
	if [ ! -s "$page" ]; then
		echo "man-lint: $page is empty"
		rc=1
		continue
	fi
	out=$("$MANDOC" -Tlint -Wwarning "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "$out"
		rc=1
	fi
done
[ "$n" -gt 0 ] || { echo "man-lint: no pages found"; exit 1; }
echo "man-lint: $n pages checked"
exit $rc
