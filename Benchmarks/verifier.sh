#!/usr/bin/env bash
# Verifier benchmark: `parley serve verifier` with its codes in memory and in Redis, in the same
# run. For each store: a verifier on a free port with its own data folder (mail goes to
# <data-dir>/outbox as .eml files), then `parley loadgen verifier` over gRPC: each round issues
# N codes to fresh addresses with C concurrent callers (timed), reads the codes from the outbox
# (untimed), checks them all (timed). Writes the medians, failures and the verifier's peak RSS
# into BENCHMARKS.md (unless BENCH_NO_WRITE=1).
# Both verifiers run at once and the rounds alternate between them, so that background load on a
# shared machine falls on both.
# Usage: Benchmarks/verifier.sh [codes per round, default 2000] [concurrency, default 16] [rounds, default 5]
# PARLEY_BIN=path skips the release build and uses that binary.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
codes=${1:-2000}
concurrency=${2:-16}
rounds=${3:-5}

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; fi

if [[ -n "${PARLEY_BIN:-}" ]]; then
  bin=$PARLEY_BIN
else
  swift build -c release --product parley --scratch-path .build-release
  bin=$PWD/.build-release/release/parley
fi

work=$(mktemp -d /tmp/parley-bench-verifier-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port: until something accepts connections there (30 s at most)
  python3 - "$1" <<'PY'
import socket, sys, time
deadline = time.time() + 30
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.time() > deadline:
            sys.exit(f"nothing listens on port {sys.argv[1]}")
        time.sleep(0.05)
PY
}

# A private Redis with a password (from a config file, so it does not show in `ps`), no persistence.
redis_port=$(free_port)
redis_password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
mkdir -p "$work/redis"
printf 'requirepass %s\n' "$redis_password" >"$work/redis/redis.conf"
chmod 600 "$work/redis/redis.conf"
redis-server "$work/redis/redis.conf" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work/redis" >"$work/redis/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port"
redis_version=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')

declare -A port vpid
start_verifier() { # store (memory|redis) → sets port[store], vpid[store]
  local store=$1 data="$work/$1"
  mkdir -p "$data"
  port[$store]=$(free_port)
  if [[ $store == redis ]]; then
    # The password goes through the environment, not a flag that `ps` shows.
    PARLEY_REDIS_URL="redis://:$redis_password@127.0.0.1:$redis_port/0" \
      "$bin" serve verifier --host 127.0.0.1 --verifier-port "${port[$store]}" --data-dir "$data" --log-level warning >"$data.log" 2>&1 &
  else
    "$bin" serve verifier --host 127.0.0.1 --verifier-port "${port[$store]}" --data-dir "$data" --log-level warning >"$data.log" 2>&1 &
  fi
  vpid[$store]=$!; pids+=("$!")
  wait_port "${port[$store]}"
}
start_verifier memory
start_verifier redis

# Both verifiers run at once and the rounds alternate between them (memory first in odd rounds,
# redis first in even ones), so that both stores see the same background load on this shared
# machine. Each round is one `parley loadgen verifier --rounds 1`; progress goes to standard error.
for round in $(seq "$rounds"); do
  order=(memory redis)
  (( round % 2 == 0 )) && order=(redis memory)
  for store in "${order[@]}"; do
    echo "[$store, round $round of $rounds]" >&2
    "$bin" loadgen verifier --target "127.0.0.1:${port[$store]}" --outbox "$work/$store/outbox" \
      --codes "$codes" --concurrency "$concurrency" --rounds 1 | tee -a "$work/$store-loadgen.txt" >&2
  done
done
rss_memory=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/"${vpid[memory]}"/status)
rss_redis=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/"${vpid[redis]}"/status)

table=$(python3 - "$work" "$rss_memory" "$rss_redis" <<'PY'
import re, statistics, sys
work, rss = sys.argv[1], {"memory": sys.argv[2], "redis": sys.argv[3]}
# "round 1: issue 2000/2000 in 2.051 s = 975 codes/s; check 2000/2000 in 0.737 s = 2714 codes/s; failures 0 (…)"
line = re.compile(r"^round \d+: issue .*? = ([0-9.]+) codes/s; check .*? = ([0-9.]+) codes/s; failures (\d+)", re.M)
runs = {store: [(float(i), float(c), int(f)) for i, c, f in line.findall(open(f"{work}/{store}-loadgen.txt").read())]
        for store in ["memory", "redis"]}
median = {store: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs)) for store, rs in runs.items()}
for store, rs in runs.items():
    print(f"| {store} | {median[store][0]:,.0f} | {median[store][1]:,.0f} | {sum(r[2] for r in rs)} | {rss[store]} MiB |")
print()
m, r = median["memory"], median["redis"]
print(f"Redis/memory (ratio of the medians): issue {r[0]/m[0]:.2f}×, check {r[1]/m[1]:.2f}×.")
print()
for store, rs in runs.items():
    print(f"Rounds, {store}: issue {', '.join(f'{x[0]:,.0f}' for x in rs)}; check {', '.join(f'{x[1]:,.0f}' for x in rs)} codes/s.  ")
PY
)

section=$(cat <<MD
## Verifier: \`Benchmarks/verifier.sh\`

Command: \`Benchmarks/verifier.sh $codes $concurrency $rounds\` (release build; one \`parley serve verifier\` process per store,
both running, on loopback; $rounds rounds per store, alternating between the stores, each a \`parley loadgen verifier\` that
issues $codes codes to fresh addresses with $concurrency concurrent callers over one gRPC connection, then checks them all the
same way; figures are medians over the rounds, failures the total over all rounds, peak RSS the verifier's VmHWM).
Redis $redis_version, private, on loopback, with a password and no persistence.
Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)),
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(date -u +%Y-%m-%d).

| store | issue codes/s (median) | check codes/s (median) | failures | verifier peak RSS |
|---|---|---|---|---|
$table

Notes: mail goes to the outbox, one \`.eml\` file per code on local disk (written, fsynced and renamed
before IssueCode answers), not over SMTP, so an issue costs a file write and fsync, and the
figures say nothing of a mail server. The load generator reads the codes from those files between
the two timed phases. Load generator, verifiers and Redis share the same $(nproc) cores (with anything else
the machine runs meanwhile), so the rounds vary; compare the stores by the ratio.
MD
)
echo "$section"
[[ "${BENCH_NO_WRITE:-}" == 1 ]] && exit 0
python3 - "$section" <<'PY'
import re, sys, pathlib
section = sys.argv[1].rstrip("\n")
path = pathlib.Path("BENCHMARKS.md")
text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured on this project's machines; each section says how.\n"
pattern = re.compile(r"## Verifier: `Benchmarks/verifier.sh`.*?(?=\n## |\Z)", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
path.write_text(text.rstrip("\n") + "\n")
PY
