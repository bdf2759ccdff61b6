#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# Decision latency, in one run: `ssh-allow-check HOST` against /bin/true
# (the floor of starting any program) and against the way scitex-ssh 1.0
# decided (python3 + PyYAML loading the same file, then matching), with
# 10, 1,000 and 10,000 host rules. The host asked about matches no rule,
# so every rule is tried before default: decides (the worst case).
# Goals: within 1.5x of /bin/true at 1,000 rules, under 5 ms at 10,000,
# at least 30x faster than Python. "ours" is the usual case: the policy
# compiled once into the cache (pcache.c); "cold" has no cache to use
# and parses the YAML every time.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${O:=build/out}"
case $O in /*) ;; *) O=$PWD/$O ;; esac
SAC=$O/bin/ssh-allow-check
[ -x "$SAC" ] || { echo "latency: build first"; exit 1; }
python3 -c 'import yaml' 2>/dev/null || { echo "latency: needs python3-yaml"; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
HOST=nomatch.example.com
export XDG_CACHE_HOME=$T/cache
: >"$T/nocache"			# "cold": a cache directory that cannot exist

# rules N: a config with N hosts: entries in the shape users write.
rules() {
	awk -v n="$1" 'BEGIN {
		print "default:\n  ssh: allow\n  tunnels: deny\nhosts:"
		for (i = 1; i <= n; i++)
			if (i % 3 == 0)
				printf "  \"node%05d-*.hpc.example.edu\": {ssh: allow, tunnels: deny}\n", i
			else if (i % 3 == 1)
				printf "  lab%05d: {tunnels: allow}\n", i
			else
				printf "  \"!*.example.edu,gw%05d?\": {ssh: deny}\n", i
	}'
}

# The replaced tool's way: PyYAML's safe_load (pure Python, as
# scitex-ssh 1.0 loaded it), then first matching entry naming the feature.
cat >"$T/decide.py" <<'EOF'
import fnmatch, sys, yaml
loader = yaml.CSafeLoader if sys.argv[1] == "c" else yaml.SafeLoader
with open(sys.argv[2]) as f:
    cfg = yaml.load(f, Loader=loader)
host, feature = sys.argv[3].lower().rstrip("."), "ssh"

def match(pats, h):
    hit = False
    for p in pats.lower().split(","):
        if p.startswith("!"):
            if fnmatch.fnmatchcase(h, p[1:]):
                return False
        elif fnmatch.fnmatchcase(h, p):
            hit = True
    return hit

for pat, feats in (cfg.get("hosts") or {}).items():
    if feature in feats and match(pat, host):
        sys.exit(0 if feats[feature] == "allow" else 1)
sys.exit(0 if (cfg.get("default") or {}).get(feature) == "allow" else 1)
EOF

# seconds CMD...: the median wall time of many runs, in milliseconds.
ms() {
	local runs=$1
	shift
	if command -v hyperfine >/dev/null; then
		hyperfine -N --style none --warmup 3 --min-runs "$runs" \
		    --max-runs "$runs" --export-csv "$T/h.csv" \
		    -- "$(printf '%q ' "$@")" >/dev/null 2>&1 || return 1
		awk -F, 'NR == 2 { printf "%.3f\n", $4 * 1000 }' "$T/h.csv"
	else
		local i t0 t1
		"$@" >/dev/null || return 1
		t0=$(date +%s%N)
		for ((i = 0; i < runs; i++)); do
			"$@" >/dev/null
		done
		t1=$(date +%s%N)
		awk -v d=$((t1 - t0)) -v n="$runs" 'BEGIN { printf "%.3f\n", d / n / 1e6 }'
	fi
}

rc=0
for n in 10 1000 10000; do
	rules "$n" >"$T/c$n.yaml"
done
# The cache takes only files that have settled (older than 2 s).
sleep 3
printf 'latency: median ms per decision, host matching none of N rules\n'
printf '%7s %8s %8s %8s %7s %9s %9s %7s %7s\n' rules true ours cold xtrue \
    py-yaml py-cyaml xpy xcyaml
for n in 10 1000 10000; do
	"$SAC" -F "$T/c$n.yaml" "$HOST" ||
	    { echo "latency: ssh-allow-check did not allow"; exit 1; }
	python3 "$T/decide.py" p "$T/c$n.yaml" "$HOST" ||
	    { echo "latency: decide.py did not allow"; exit 1; }
	t=$(ms 300 /bin/true)
	a=$(ms 300 "$SAC" -F "$T/c$n.yaml" "$HOST")
	k=$(XDG_CACHE_HOME=$T/nocache/x ms 100 "$SAC" -F "$T/c$n.yaml" "$HOST")
	pruns=$((n >= 10000 ? 5 : 20))
	p=$(ms "$pruns" python3 "$T/decide.py" p "$T/c$n.yaml" "$HOST")
	c=$(ms "$pruns" python3 "$T/decide.py" c "$T/c$n.yaml" "$HOST")
	awk -v n="$n" -v t="$t" -v a="$a" -v k="$k" -v p="$p" -v c="$c" 'BEGIN {
		printf "%7d %8.3f %8.3f %8.3f %6.2fx %9.1f %9.1f %6.0fx %6.0fx\n",
		    n, t, a, k, a / t, p, c, p / a, c / a
	}'
	GOAL[n]="$t $a $p"
done
# Verdicts against the goals of the issue.
read -r t a p <<<"${GOAL[1000]}"
awk -v t="$t" -v a="$a" 'BEGIN { ok = a <= 1.5 * t
	printf "%s: 1,000 rules at %.2fx /bin/true (goal <= 1.5x)\n", ok ? "ok" : "MISSED", a / t
	exit !ok }' || rc=1
read -r t a p <<<"${GOAL[10000]}"
awk -v a="$a" 'BEGIN { ok = a < 5
	printf "%s: 10,000 rules in %.2f ms (goal < 5 ms)\n", ok ? "ok" : "MISSED", a
	exit !ok }' || rc=1
for n in 10 1000 10000; do
	read -r t a p <<<"${GOAL[$n]}"
	awk -v n="$n" -v a="$a" -v p="$p" 'BEGIN { ok = p >= 30 * a
		printf "%s: %d rules %.0fx faster than python3+PyYAML (goal >= 30x)\n",
		    ok ? "ok" : "MISSED", n, p / a
		exit !ok }' || rc=1
done
exit $rc
