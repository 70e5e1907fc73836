# SPDX-License-Identifier: GPL-2.0-or-later
# lib/wait.sh -- waiting for a condition, bounded in count and time
# (never a fixed sleep), and stopping processes.
# Sourced by tests/netns/lib.sh, never on its own.

# wait_for DESC TIMEOUT CMD... - run CMD every 0.1 s until it succeeds;
# fail with DESC after TIMEOUT seconds.
wait_for()
{
	local desc=$1 secs=$2 i=0 max
	shift 2
	max=$((secs * 10))
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $max ] && fail "timeout (${secs}s) waiting for $desc"
		sleep 0.1
	done
}

# try_for TIMEOUT CMD... - like wait_for but returns 1 instead of failing.
try_for()
{
	local secs=$1 i=0 max
	shift
	max=$((secs * 10))
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $max ] && return 1
		sleep 0.1
	done
	return 0
}

# alive PID - true while PID runs (and is not a zombie).
alive()
{
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# pid_stop PID [SECONDS] - TERM, wait up to SECONDS (default 3), KILL.
# Returns 0 once PID is gone.
pid_stop()
{
	local pid=$1 secs=${2:-3} i=0 max
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	max=$((secs * 10))
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $max ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 20 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	! kill -0 "$pid" 2>/dev/null
}

# listening NS tcp|udp ADDR PORT - true when a socket listens there.
listening()
{
	local opt=-ltnH
	[ "$2" = udp ] && opt=-lunH
	nsx "$1" ss $opt "src [$3]:$4" 2>/dev/null | grep -q .
}

# wait_listen NS tcp|udp ADDR PORT - wait (10 s) for a listener.
wait_listen()
{
	wait_for "$2 listener [$3]:$4 in $1" 10 listening "$@"
}
