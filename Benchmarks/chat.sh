#!/usr/bin/env bash
# Chat benchmark: `parley serve` (every role, SQLite) and `parley loadgen chat` over TCP, on loopback.
# N connections in pairs of friends (users and friendships made directly in the database; tickets
# signed with the server's PARLEY_CHAT_SECRET): the chat server's RSS per idle connection, then one
# side of each pair sends texts at a target rate for D seconds (every text stored by the backend
# before its ack, pushed to the friend): delivered texts/s and end-to-end latency (HdrHistogram).
# Three runs: at the goal's 20,000 texts/s, at half that, and at a rate the server sustains here (2,000/s).
# Writes BENCHMARKS.md (unless BENCH_NO_WRITE=1).
# Usage: Benchmarks/chat.sh [connections, default 10000] [seconds, default 10] [rate, default 20000] [sustained, default 2000]
# PARLEY_BIN=path skips the release build and uses that binary.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
connections=${1:-10000}
duration=${2:-10}
rate=${3:-20000}
half=$((rate / 2))
sustained=${4:-2000}

command -v python3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3; }
if [[ -n "${PARLEY_BIN:-}" ]]; then
  bin=$PARLEY_BIN
else
  swift build -c release --product parley --scratch-path .build-release
  bin=$PWD/.build-release/release/parley
fi
# Both ends hold one socket per connection: raise the soft limit of open files to the hard one.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/parley-bench-chat-XXXXXX)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
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

PARLEY_CHAT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export PARLEY_CHAT_SECRET
chat_port=$(free_port)
"$bin" serve --data-dir "$work/data" --http-port "$(free_port)" --rpc-port "$(free_port)" \
  --verifier-port "$(free_port)" --balancer-port "$(free_port)" --chat-port "$chat_port" \
  --chat-ws-port "$(free_port)" --listen "127.0.0.1:$(free_port)" --log-level warning >"$work/serve.log" 2>&1 &
pid=$!
wait_port "$chat_port"
sleep 1

run() { # rate → the loadgen's output
  "$bin" loadgen chat --target "127.0.0.1:$chat_port" --database "sqlite:$work/data/" \
    --connections "$connections" --rate "$1" --duration "$duration" --server-pid "$pid" 2>&1 | tee /dev/stderr
}
full=$(run "$rate")
halfrun=$(run "$half")
steady=$(run "$sustained")
peak=$(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status")

field() { # text, regex with one group
  python3 -c 'import re,sys; m=re.search(sys.argv[2], sys.argv[1]); print(m.group(1) if m else "?")' "$1" "$2"
}
per_conn_full=$(field "$full" '\(([0-9]+) bytes\) per connection')
# Negative when the second run's connections fit in memory the first run's freed.
per_conn_half=$(field "$halfrun" '\((-?[0-9]+) bytes\) per connection')
row() { # label, output
  echo "| $1 | $(field "$2" 'delivered ([0-9]+) texts/s') | $(field "$2" 'sent ([0-9]+),') | $(field "$2" 'delivered ([0-9]+), errors') | $(field "$2" 'errors ([0-9]+)') | $(field "$2" 'p50 ([0-9.]+) ms') | $(field "$2" 'p99 ([0-9.]+) ms') | $(field "$2" 'p999 ([0-9.]+) ms') | $(field "$2" 'chat server ([0-9?]+)') | $(field "$2" 'load generator ([0-9?]+)') | $(field "$2" 'chat server ([0-9.?]+) reads') / $(field "$2" 'chat server [0-9.?]+ reads, ([0-9.?]+) writes') / $(field "$2" 'chat server [0-9.?]+ reads, [0-9.?]+ writes, ([0-9.?]+) context') | $(field "$2" 'connections lost ([0-9]+)') |"
}

section=$(cat <<MD
## Chat: \`Benchmarks/chat.sh\`

Command: \`Benchmarks/chat.sh $connections $duration $rate $sustained\` (release build; one \`parley serve\` process, every role, SQLite;
\`parley loadgen chat\` opens $connections TCP connections in pairs of friends and authenticates them; one side of each pair
sends texts, 40-odd bytes each, evenly paced, for $duration s; each text is stored by the backend (JSON-RPC; SQLite writes
the texts that come together in one statement) before its \`text_ack\` and pushed to the friend; latency is from the
sender's write to the friend's read, HdrHistogram). The load generator sends and counts on its event loop, with no task
per connection or per text, and heartbeats as the server asks. CPU per text: each process's CPU time (/proc) while
sending and for the 2 s after, divided by the texts delivered; the same for the server's read and write calls (/proc/PID/io
\`syscr\`, \`syscw\`: reads, receives, writes, sends of sockets and files) and its threads' context switches.
Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)),
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(date -u +%Y-%m-%d).

| target texts/s | delivered texts/s | sent | delivered | errors | p50 ms | p99 ms | p999 ms | server CPU µs/text | generator CPU µs/text | server reads / writes / context switches per text | connections lost |
|---|---|---|---|---|---|---|---|---|---|---|---|
$(row "$rate" "$full")
$(row "$half" "$halfrun")
$(row "$sustained" "$steady")

Chat server memory per idle, authenticated connection (RSS after opening them minus before, divided by
$connections): **$per_conn_full bytes** in the first run, on a fresh process; $per_conn_half in the second, which reuses
memory the first run's connections freed (so it understates). The process's peak RSS: $peak (gateway, backend,
verifier, balancer and chat server together).

Goals (issue 6): ≤ 10 KB per idle connection; ≥ 20,000 delivered, stored texts/s; p99 < 50 ms at half that
rate. Over what the server sustains, texts queue (in the chat server and in the JSON-RPC calls to the backend) and
latency grows with the run; "delivered" counts what arrived by 2 s after the senders stopped. The load generator,
the chat server and the backend share the same $(nproc) cores.
MD
)
echo "$section"
[[ "${BENCH_NO_WRITE:-}" == 1 ]] && exit 0
python3 - "$section" <<'PY'
import re, sys, pathlib
section = sys.argv[1].rstrip("\n")
path = pathlib.Path("BENCHMARKS.md")
text = path.read_text()
pattern = re.compile(r"## Chat: `Benchmarks/chat.sh`.*?(?=\n## |\Z)", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
path.write_text(text.rstrip("\n") + "\n")
PY
