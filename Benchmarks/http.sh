#!/usr/bin/env bash
# HTTP benchmark of `parley serve` (gateway + backend + SQLite in one process).
# Builds release, starts on a fresh data dir, seeds 1,000 posts, runs wrk against
# /healthz, GET /api/v1/posts?limit=20 and POST /api/v1/posts with a session, and writes
# req/s, p50/p99 latency and peak RSS into BENCHMARKS.md.
# Usage: Benchmarks/http.sh [duration, default 15s] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
duration=${1:-15s}
connections=${2:-32}
threads=2

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; }

swift build -c release --product parley --scratch-path .build-release
bin=.build-release/release/parley

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rpc=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --http-port "$port" --rpc-port "$rpc" --data-dir "$work/data" --log-level warning >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

curl -fs -X POST "$base/api/v1/accounts" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"benchmark password"}' >/dev/null
token=$(curl -fs -X POST "$base/api/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"benchmark password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
seq 1000 | xargs -P 8 -I{} curl -fs -o /dev/null -X POST "$base/api/v1/posts" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
  -d '{"title":"Seed post {}","body":"A seeded post body, about as long as a short message on a board."}'

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"title":"Benchmark","body":"A post written by wrk with a session."}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

run() { # name, url, [script]
  local out
  out=$(wrk --latency -t$threads -c"$connections" -d"$duration" ${3:+-s "$3"} "$2")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}"
  echo "$rps" >"$work/$(tr -c 'a-z' '_' <<<"$1").rps"
}

rows=$(
  run "GET /healthz" "$base/healthz"
  run "GET /api/v1/posts?limit=20" "$base/api/v1/posts?limit=20"
  run "POST /api/v1/posts (session)" "$base/api/v1/posts" "$work/post.lua"
)
rss_kib=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
health=$(sed -n 1p <<<"$rows" | awk -F'|' '{print $3}')
list=$(sed -n 2p <<<"$rows" | awk -F'|' '{print $3}')
post=$(sed -n 3p <<<"$rows" | awk -F'|' '{print $3}')
ratio() { python3 -c "print(f'{100*float($1)/float($2):.0f}%')"; }

section=$(cat <<MD
## HTTP: \`Benchmarks/http.sh\`

Command: \`Benchmarks/http.sh $duration $connections\` (wrk, $threads threads, $connections connections, $duration per endpoint,
release build, one \`parley serve\` process on SQLite, 1,000 seeded posts).
Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(date -u +%Y-%m-%d).

| endpoint | req/s | p50 | p99 | non-2xx |
|---|---|---|---|---|
$rows

Posts list at $(ratio "$list" "$health") of /healthz throughput (goal ≥ 40%); post at $(ratio "$post" "$health") (goal ≥ 20%).
Peak RSS of the server: $((rss_kib / 1024)) MiB.
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
