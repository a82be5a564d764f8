#!/usr/bin/env bash
# The seeds' demos behave as the seeds say, on virtual time (so every run
# gives the same numbers and the checks are exact, not timing thresholds).
#   usage: test_sim.sh PATH/TO/wirepath
set -euo pipefail
wp=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3

# --- sim napi ---------------------------------------------------------------
# 80 pkts/ms against budget 64: every tick uses the whole budget, NAPI stays
# scheduled with the IRQ masked, and from the third tick on: starvation.
"$wp" sim napi --rate 80 --budget 64 --ticks 6 --ring 4096 --json > napi.json
$py - napi.json <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ticks = [r for r in rows if r["sim"] == "napi"]
summ = [r for r in rows if r["sim"] == "napi-summary"][0]
assert len(ticks) == 6, ticks
for t in ticks:
    assert t["arrived"] == 80, t
    assert t["processed"] == 64, t
    assert t["napi_rescheduled"] and not t["irq_reenabled"], t
assert [t["starvation_risk"] for t in ticks] == [False, False, True, True, True, True]
# the backlog grows by 16 a tick
assert [t["ring_pending"] for t in ticks] == [16, 32, 48, 64, 80, 96], ticks
assert summ["time_squeeze"] >= 6, summ
assert summ["interrupts"] == 1, summ    # masked from the first IRQ on
PY

# 40 pkts/ms against budget 64: the ring drains, the IRQ is re-enabled
# every tick and fires again on the next tick's first frame.
"$wp" sim napi --rate 40 --budget 64 --ticks 5 --json > napi2.json
$py - napi2.json <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ticks = [r for r in rows if r["sim"] == "napi"]
for t in ticks:
    assert t["processed"] == 40 and t["irq_reenabled"] and not t["starvation_risk"], t
summ = [r for r in rows if r["sim"] == "napi-summary"][0]
assert summ["interrupts"] == 5 and summ["time_squeeze"] == 0, summ
PY

# A small ring under sustained overload drops and counts rx_missed_errors.
"$wp" sim napi --rate 200 --budget 64 --ticks 10 --ring 64 --json > napi3.json
$py - napi3.json <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
summ = [r for r in rows if r["sim"] == "napi-summary"][0]
ticks = [r for r in rows if r["sim"] == "napi"]
assert summ["rx_missed_errors"] > 0, summ
assert sum(t["dropped"] for t in ticks) == summ["rx_missed_errors"]
assert sum(t["arrived"] for t in ticks) == sum(t["processed"] for t in ticks) + \
    summ["rx_missed_errors"] + ticks[-1]["ring_pending"]
PY

# --- sim coalesce ------------------------------------------------------------
# More rx-usecs: fewer interrupts, more latency; 0: one interrupt per frame.
"$wp" sim coalesce --rate 100000 --usecs 0,10,50,100 --seconds 0.1 --json > coal.json
$py - coal.json <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["rx_usecs"] for r in rows] == [0, 10, 50, 100]
assert abs(rows[0]["frames_per_irq"] - 1.0) < 0.01, rows[0]
assert rows[0]["latency_p99_us"] < 1, rows[0]
irqs = [r["irqs_per_sec"] for r in rows]
p99 = [r["latency_p99_us"] for r in rows]
assert irqs == sorted(irqs, reverse=True) and irqs[0] > irqs[-1] * 5, irqs
assert p99 == sorted(p99) and 40 <= p99[2] <= 56, p99    # the 50 us tax
PY

# rx-frames fires before rx-usecs when frames come fast.
"$wp" sim coalesce --rate 1000000 --usecs 100 --frames 8 --seconds 0.01 --json > coal2.json
$py - coal2.json <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert abs(r["frames_per_irq"] - 8) < 0.5, r
assert r["latency_p99_us"] < 10, r
PY

# --- sim ring -------------------------------------------------------------------
# Small rings drop under bursts; big rings do not drop but delay more.
"$wp" sim ring --sizes 64,256,1024,4096 --seconds 0.05 --json > ring.json
$py - ring.json <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
drops = [r["rx_missed_errors"] for r in rows]
delay = [r["delay_max_us"] for r in rows]
assert drops[0] > 0 and drops[-1] == 0, drops
assert drops == sorted(drops, reverse=True), drops
assert delay[-1] > delay[0], delay
PY

# --- bad knobs: refused, exit 2 ------------------------------------------------
for bad in "napi --budget 0" "napi --rate -5" "napi --ring 100" "napi --ring 8192" \
	"coalesce --usecs 10,x" "ring --burst 5" "ring --sizes 96" "napi --bogus" "warp"; do
	set +e
	"$wp" sim $bad >/dev/null 2>err.txt
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "sim $bad: exit $rc, want 2"
	[ -s err.txt ] || fail "sim $bad: no message"
done
echo "sim: all checks passed"
