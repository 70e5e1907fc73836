#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 60-metrics.sh -- lbspd's Prometheus endpoint (metrics-listen), scraped
# by a real Prometheus server.
#
# A client host (lbspd client role, metrics-listen on its own address)
# fetches files from a server host (lbspd server role) with curl; the
# traffic then stops, so every counter is still.  Asserts:
# - the answer of GET /metrics passes "promtool check metrics" (format
#   and naming lint), with the Prometheus content type;
# - it holds every counter of "lbspctl stats --json" (counters, passed,
#   malformed, tables, queue) with the same value, and
#   lbsp_build_info{version=...} with the daemon's version: the page is
#   made from lbspctl's own answer, not from a second list;
# - tables.flows counts a new session's flow at once (on tc, the maps
#   are counted when asked, not at the daemon's last sweep);
# - another path is 404, another method 405, both counted in
#   "lbspctl stats" under "metrics";
# - a Prometheus server started in the client's namespace (its own
#   configuration and storage in the test directory, scrape every 1 s)
#   scrapes lbspd (up == 1) and its HTTP API (/api/v1/query) returns
#   lbsp_packets_total with the value lbspctl reports, non-zero (on
#   the tc datapath the programs' lbsp_kernel_inserted_total{role}, and
#   every kernel counter of lbspctl stats is a metric too).
# How it fails: drop a counter from the rendering (prom.c rules), break
# the exposition format, answer on another port, or report the tc
# tables as the last sweep found them.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
PROMTOOL=$(command -v promtool) || fail "promtool not installed (Debian package prometheus)"
PROMETHEUS=$(command -v prometheus) || fail "prometheus not installed"
topo_pair
MPORT=9750

cat >"$T/client.conf" <<EOF
role client
rules install
metrics-listen $C_ADDR $MPORT
vip $S_ADDR {
	ports 80
}
EOF
cat >"$T/server.conf" <<EOF
role server
rules install
EOF
mkdir "$T/www"
head -c 200000 /dev/urandom >"$T/www/big"
http_server S $S_ADDR 80 "$T/www"
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"
wait_listen C tcp $C_ADDR $MPORT

# Traffic, then none: the counters stand still until curl 4.
for i in 1 2 3; do
	nsx C curl -gsS --max-time 20 -o "$T/big.got" "http://[$S_ADDR]/big" ||
		fail "curl $i through lbspd"
	cmp -s "$T/www/big" "$T/big.got" || fail "curl $i: content differs"
done

murl="http://[$C_ADDR]:$MPORT/metrics"
nsx C curl -gsS --max-time 10 -D "$T/headers" -o "$T/metrics.txt" "$murl" ||
	fail "GET $murl"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" ||
	{ dump "$T/headers"; fail "no Prometheus text content type"; }
out=$("$PROMTOOL" check metrics <"$T/metrics.txt" 2>&1) ||
	{ dump "$T/metrics.txt"; fail "promtool check metrics: $out"; }
[ -z "$out" ] || fail "promtool check metrics complains: $out"
info "promtool: $(grep -vc '^#' "$T/metrics.txt") samples accepted"
stats_json C "$T/stats.json"

# Every figure of lbspctl stats, by the names lbspd(8) gives them.
"$PY" - "$T/stats.json" "$T/metrics.txt" <<'EOF' || fail "metrics and lbspctl stats disagree"
import json, re, sys
stats = json.load(open(sys.argv[1]))
samples = {}
for line in open(sys.argv[2]):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', line.rstrip("\n"))
    if not m:
        sys.exit("unparsable line: %r" % line)
    samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
want = {}
for k, v in stats["counters"].items():
    if k.startswith("by_"):
        want['lbsp_balancer_decisions_total{by="%s"}' % k[3:]] = v
    else:
        want["lbsp_%s_total" % k] = v
for k, v in stats["passed"].items():
    want['lbsp_passed_total{reason="%s"}' % k] = v
for k, v in stats["malformed"].items():
    want['lbsp_malformed_total{error="%s"}' % k] = v
for k, v in stats["tables"].items():
    if k.endswith("_max"):
        want['lbsp_table_entries_max{table="%s"}' % k[:-4]] = v
    else:
        want['lbsp_table_entries{table="%s"}' % k] = v
for q in stats["queue"]:
    lab = '{queue="%d"}' % q["queue"]
    want["lbsp_queue_packets_total" + lab] = q["packets"]
    want["lbsp_queue_dropped_packets_total" + lab] = q["queue_dropped"]
    want["lbsp_queue_user_dropped_packets_total" + lab] = q["user_dropped"]
    want["lbsp_queue_bound" + lab] = int(q["bound"])
for k, v in stats["insert_paths"].items():
    if isinstance(v, bool) and k != "tested":
        want['lbsp_insert_path{path="%s"}' % k] = int(v)
for r in stats["roles"]:
    want['lbsp_role{role="%s"}' % r] = 1
# The tc programs' counters (LBSP_DATAPATH=tc): they also count the
# neighbour discovery that goes on, so lbspctl's figure, read after the
# page, may only be as large or larger.
later = {}
for role, ctrs in stats.get("kernel", {}).items():
    for k, v in ctrs.items():
        later['lbsp_kernel_%s_total{role="%s"}' % (re.sub(r"[^a-zA-Z0-9_]", "_", k), role)] = v
want['lbsp_build_info{version="%s"}' % stats["version"]] = 1
bad = 0
for name, v in sorted(want.items()):
    if name not in samples:
        print("missing: %s (lbspctl: %s)" % (name, v))
        bad += 1
    elif samples[name] != v:
        print("differs: %s = %s, lbspctl %s" % (name, samples[name], v))
        bad += 1
for name, v in sorted(later.items()):
    if name not in samples:
        print("missing: %s (lbspctl: %s)" % (name, v))
        bad += 1
    elif samples[name] > v:
        print("ahead: %s = %s, lbspctl later %s" % (name, samples[name], v))
        bad += 1
print("# %d lbspctl figures compared, %d wrong" % (len(want) + len(later), bad))
packets = stats["counters"]["packets"] + sum(c.get("packets", 0) for c in stats.get("kernel", {}).values())
if packets == 0:
    sys.exit("no packet counted: the traffic did not go through lbspd")
sys.exit(1 if bad else 0)
EOF

# The tables as they are when asked (on tc, the kernel's maps): a new
# session's flow is there at once, not at the daemon's next sweep.
flows0=$(json_get "$T/stats.json" "j['tables']['flows']")
nsx C curl -gsS --max-time 20 -o "$T/big.got" "http://[$S_ADDR]/big" ||
	fail "curl 4 through lbspd"
stats_json C "$T/stats1.json"
flows1=$(json_get "$T/stats1.json" "j['tables']['flows']")
[ "$flows1" -gt "$flows0" ] ||
	fail "tables.flows $flows0 before a new session and $flows1 just after"
info "tables.flows $flows0, then $flows1 with a new session"

# Junk paths and methods: answered and counted.
code=$(nsx C curl -gs -o /dev/null -w '%{http_code}' "http://[$C_ADDR]:$MPORT/nope")
[ "$code" = 404 ] || fail "GET /nope: HTTP $code, want 404"
code=$(nsx C curl -gs -o /dev/null -w '%{http_code}' -X POST -d x "$murl")
[ "$code" = 405 ] || fail "POST /metrics: HTTP $code, want 405"
stats_json C "$T/stats2.json"
[ "$(json_get "$T/stats2.json" "j['metrics']['not_found']")" = 1 ] ||
	fail "404 not counted"
[ "$(json_get "$T/stats2.json" "j['metrics']['bad_method']")" = 1 ] ||
	fail "405 not counted"
[ "$(json_get "$T/stats2.json" "j['metrics']['scrapes']")" -ge 1 ] ||
	fail "scrape not counted"

# A real Prometheus in the client's namespace, on its loopback.
mkdir "$T/prom"
cat >"$T/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: lbsp
    static_configs:
      - targets: ['[$C_ADDR]:$MPORT']
EOF
bg C "$PROMETHEUS" --config.file="$T/prom/prometheus.yml" \
    --storage.tsdb.path="$T/prom/data" --web.listen-address="[::1]:9090"
PROM_LOG=$BG_LOG
wait_for "prometheus listening" 30 listening C tcp ::1 9090

# query EXPR - the value of the first series of EXPR, or nothing.
query()
{
	nsx C curl -gsS --max-time 5 --data-urlencode "query=$1" \
	    "http://[::1]:9090/api/v1/query" 2>/dev/null |
	    "$PY" -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
# The packets the client role counted: the daemon's, or on tc the
# options its programs inserted (their packet count also sees neighbour
# discovery, which goes on).
if [ "$(json_get "$T/stats2.json" "'client' in j.get('kernel', {})")" = true ]; then
	metric='lbsp_kernel_inserted_total{role="client"}'
	figure="j['kernel']['client']['inserted']"
else
	metric=lbsp_packets_total
	figure="j['counters']['packets']"
fi
want=$(json_get "$T/stats2.json" "$figure")
got=
i=0
while [ $i -lt 60 ]; do
	got=$(query "$metric")
	[ "$got" = "$want" ] && break
	sleep 0.5
	i=$((i + 1))
done
[ "$got" = "$want" ] ||
	{ dump "$PROM_LOG"; fail "Prometheus: $metric = '$got', lbspctl says $want"; }
up=$(query 'up{job="lbsp"}')
[ "$up" = 1 ] || fail "Prometheus: up{job=\"lbsp\"} = '$up'"
ver=$(query 'lbsp_build_info')
[ "$ver" = 1 ] || fail "Prometheus: no lbsp_build_info"
stats_json C "$T/stats3.json"
[ "$(json_get "$T/stats3.json" "$figure")" = "$want" ] ||
	fail "the packet counter moved while nothing was sent"
info "Prometheus: $metric $got = lbspctl $figure"

pass "metrics: promtool clean, every lbspctl figure, 404/405 counted, Prometheus reads $metric $got"
