#!/usr/bin/env bash
# HTTP benchmark of `parley serve` (gateway + backend in one process), on SQLite and on
# PostgreSQL in the same run. For each engine: a fresh database, an account registered with the
# code mailed to its outbox (<data-dir>/outbox), 1,000 seeded posts, then
# wrk against /healthz, GET /api/v1/posts?limit=20 and POST /api/v1/posts with a session, in
# rounds (each round runs the three in turn), so that a burst of other load on a shared machine
# skews one round, not the ratios: they are of the medians over the rounds.
# Writes req/s, p50/p99 latency and peak RSS into BENCHMARKS.md.
# Usage: Benchmarks/http.sh [duration per endpoint and round, default 10s] [connections, default 32] [rounds, default 3]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
duration=${1:-10s}
connections=${2:-32}
rounds=${3:-3}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "rounds must be a positive number, not '$rounds'" >&2; exit 2; }
threads=2

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; fi

swift build -c release --product parley --scratch-path .build-release
bin=$PWD/.build-release/release/parley

work=$(mktemp -d /tmp/parley-bench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -d "$work/pg" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A private PostgreSQL (as the tests start it).
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgport=$(free_port)
mkdir -p "$work/pg" && chown postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -U parley --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -o "-c listen_addresses=127.0.0.1 -p $pgport -k $work/pg -c fsync=off" -w start >/dev/null
runuser -u postgres -- "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U parley -d postgres -qc 'CREATE DATABASE bench' >/dev/null

run_wrk() { # label, url, [script] -> one table row
  local out rps p50 p99 errors
  out=$(wrk --latency -t$threads -c"$connections" -d"$duration" ${3:+-s "$3"} "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$engine" "$round" "$1" "$rps" "$p50" "$p99" "${errors:-0}"
}

bench_engine() { # engine, database URL
  engine=$1
  local port rpc verifier pid base token code
  port=$(free_port); rpc=$(free_port); verifier=$(free_port)
  # Its own data folder: verification mails go to $work/$engine-data/outbox.
  # Every role on a free port: a default port taken by anything else would stop the process.
  "$bin" serve --http-port "$port" --rpc-port "$rpc" --verifier-port "$verifier" --listen 127.0.0.1:0 \
    --balancer-port "$(free_port)" --chat-port "$(free_port)" --chat-ws-port "$(free_port)" \
    --data-dir "$work/$engine-data" --database "$2" --log-level warning >"$work/$engine.log" 2>&1 &
  pid=$!; pids+=("$pid")
  base="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
  # Registration needs the code mailed to the address: ask for it, read it from the newest mail.
  curl -fs -X POST "$base/api/v1/verification-codes" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","purpose":"register"}' >/dev/null
  code=$(sed -n 's/^Subject: Your Parley code: \([0-9]\{6\}\).*/\1/p' "$(ls -t "$work/$engine-data"/outbox/*.eml | head -1)")
  curl -fs -X POST "$base/api/v1/accounts" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"benchmark password","email":"bench@example.com","code":"'"$code"'"}' >/dev/null
  token=$(curl -fs -X POST "$base/api/v1/sessions" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"benchmark password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') \
    || { echo "$engine: cannot log in; the server's log:" >&2; cat "$work/$engine.log" >&2; exit 1; }
  seq 1000 | xargs -P 8 -I{} curl -fs -o /dev/null -X POST "$base/api/v1/posts" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d '{"title":"Seed post {}","body":"A seeded post body, about as long as a short message on a board."}'
  cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"title":"Benchmark","body":"A post written by wrk with a session."}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
  for round in $(seq "$rounds"); do
    run_wrk "GET /healthz" "$base/healthz"
    run_wrk "GET /api/v1/posts?limit=20" "$base/api/v1/posts?limit=20"
    run_wrk "POST /api/v1/posts (session)" "$base/api/v1/posts" "$work/post.lua"
  done
  echo "rss $engine $(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

results=$(
  bench_engine sqlite "sqlite:$work/sqlite/"
  bench_engine postgres "postgres://parley@127.0.0.1:$pgport/bench?sslmode=disable"
)
rows=$(grep '^|' <<<"$results")
summary=$(python3 - "$rows" "$(grep '^rss' <<<"$results")" <<'PY'
import statistics, sys
rows = [[c.strip() for c in line.strip("|").split("|")] for line in sys.argv[1].splitlines()]
rss = {l.split()[1]: int(l.split()[2]) // 1024 for l in sys.argv[2].splitlines()}
endpoints = ["GET /healthz", "GET /api/v1/posts?limit=20", "POST /api/v1/posts (session)"]
engines = ["sqlite", "postgres"]
# req/s of each engine and endpoint, round by round
rates = {(e, p): [float(row[3]) for row in rows if row[0] == e and row[2] == p] for e in engines for p in endpoints}
print("| engine | endpoint | median req/s | rounds |\n|---|---|---|---|")
for (engine, endpoint), r in rates.items():
    print(f"| {engine} | {endpoint} | {statistics.median(r):,.0f} | {', '.join(f'{x:,.0f}' for x in r)} |")
print()
for engine in engines:
    health, listing, post = (rates[(engine, p)] for p in endpoints)
    each = "; ".join(f"{100*l/h:.1f}% / {100*p/h:.1f}%" for h, l, p in zip(health, listing, post))
    h = statistics.median(health)
    print(f"- {engine}: posts list at {100*statistics.median(listing)/h:.1f}% of /healthz throughput (goal ≥ 40%), "
          f"post at {100*statistics.median(post)/h:.1f}% (goal ≥ 20%), medians over the rounds (round by round, list / post: {each}); "
          f"peak RSS {rss[engine]} MiB.")
PY
)

section=$(cat <<MD
## HTTP: \`Benchmarks/http.sh\`

Command: \`Benchmarks/http.sh $duration $connections $rounds\` (wrk, $threads threads, $connections connections, $rounds rounds of
$duration per endpoint in turn,
release build, one \`parley serve\` process per engine, 1,000 seeded posts; PostgreSQL $(basename "$(dirname "$pgbin")") on loopback
with fsync off). Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(date -u +%Y-%m-%d).
wrk runs on the same 2 cores as the server, so absolute figures are low; compare the ratios.

$summary

Each run of wrk:

| engine | round | endpoint | req/s | p50 | p99 | non-2xx |
|---|---|---|---|---|---|---|
$rows
MD
)
echo "$section"
python3 - "$section" <<'PY'
import re, sys, pathlib
section = sys.argv[1].rstrip() + "\n"
path = pathlib.Path("BENCHMARKS.md")
text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured on this project's machines; each section says how.\n"
pattern = re.compile(r"## HTTP: `Benchmarks/http.sh`.*?(?=\n## |\Z)", re.S)
text = pattern.sub(lambda _: section.rstrip("\n"), text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
path.write_text(text if text.endswith("\n") else text + "\n")
PY
