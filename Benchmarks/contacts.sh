#!/usr/bin/env bash
# Contacts benchmark: three `parley serve contacts` replicas in a full mesh on loopback.
#  1. client updates/s through one replica with 2 peers: pipelined Updates over a few
#     client connections; "accepted" when that replica has answered each connection's
#     closing ListAll (it answers only once the Updates are written), "replicated" when
#     both peers list them all too.
#  2. convergence, on three fresh replicas: kill -9 one, make 100,000 changes through
#     another, restart the killed one on its data dir, and time from its start until it
#     lists all of them (it resyncs by AskForUpdate from both peers).
# The load generator is a small Python client written from the seed's byte tables.
# Writes a section into BENCHMARKS.md (unless BENCH_NO_WRITE=1).
# Usage: Benchmarks/contacts.sh [updates, default 200000] [connections, default 4] [changes while down, default 100000]
# PARLEY_BIN=path skips the release build and uses that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
updates=${1:-200000}
connections=${2:-4}
changes=${3:-100000}

if [[ -n "${PARLEY_BIN:-}" ]]; then
  bin=$PARLEY_BIN
else
  swift build -c release --product parley --scratch-path .build-release
  bin=.build-release/release/parley
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
names=(r1 r2 r3)

start_replica() { # index → sets started_pid; uses $ports and $round
  local i=$1 args=()
  for j in 0 1 2; do
    [[ $j == "$i" ]] || args+=(--peer "${names[$j]}@127.0.0.1:${ports[$j]}")
  done
  "$bin" serve contacts --name "${names[$i]}" --listen "127.0.0.1:${ports[$i]}" "${args[@]}" \
    --data-dir "$work/$round-${names[$i]}" --log-level warning >>"$work/$round-${names[$i]}.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
}

cat >"$work/loadgen.py" <<'PY'
"""A contacts client from the seed's tables: greeting 2 + user[256]; Update 1 + name[256] +
phone[20]; ListAll 3, answered by count[4 big-endian] + count × (name[256] + phone[20])."""
import socket, struct, sys, threading, time

def field(text, width):
    data = text.encode()
    assert len(data) < width
    return data + b"\0" * (width - len(data))

def connect(port):
    deadline = time.time() + 30
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=120)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)

def recv_exact(sock, size):
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise EOFError("connection closed")
        got += n
    return buf

def list_count(port, user):
    sock = connect(port)
    sock.sendall(b"\x02" + field(user, 256) + b"\x03")
    count = struct.unpack(">I", recv_exact(sock, 4))[0]
    recv_exact(sock, count * 276)
    sock.close()
    return count

def load(port, users, per_user, prefix):
    """Sends per_user Updates for each user, one connection per user, pipelined; returns
    the seconds until the replica answered every closing ListAll."""
    payloads = []
    for user in users:
        parts = [b"\x02" + field(user, 256)]
        for i in range(per_user):
            parts.append(b"\x01" + field(f"{prefix}{i:07d}", 256) + field(str(5550000000 + i), 20))
        parts.append(b"\x03")
        payloads.append(b"".join(parts))
    socks = [connect(port) for _ in users]
    counts = [None] * len(users)
    def run(k):
        socks[k].sendall(payloads[k])
        counts[k] = struct.unpack(">I", recv_exact(socks[k], 4))[0]
        recv_exact(socks[k], counts[k] * 276)
    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(users))]
    for t in threads: t.start()
    for t in threads: t.join()
    elapsed = time.perf_counter() - start
    assert all(c >= per_user for c in counts), counts
    return start, elapsed

def wait_all(ports, users, expected, since, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(list_count(p, u) >= expected for p in ports for u in users):
            return time.perf_counter() - since
        time.sleep(0.1)
    raise SystemExit(f"replicas did not converge within {timeout} s")

mode = sys.argv[1]
if mode == "throughput":
    port, peers, total, conns = int(sys.argv[2]), [int(p) for p in sys.argv[3].split(",")], int(sys.argv[4]), int(sys.argv[5])
    users = [f"bench-{k}" for k in range(conns)]
    start, accepted = load(port, users, total // conns, "c")
    replicated = wait_all([port] + peers, users, total // conns, start)
    n = (total // conns) * conns
    print(f"throughput {n} {accepted:.3f} {replicated:.3f}")
elif mode == "changes":
    port, total = int(sys.argv[2]), int(sys.argv[3])
    users = [f"down-{k}" for k in range(4)]
    load(port, users, total // 4, "d")
elif mode == "converge":
    port, total, since = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    users = [f"down-{k}" for k in range(4)]
    wait_all([port], users, total // 4, 0)
    print(f"converged {time.time() - since:.3f}")
elif mode == "wait":
    for p in sys.argv[2:]:
        connect(int(p)).close()
PY

start_trio() { # round name → sets replica_pids
  round=$1
  ports=("$(free_port)" "$(free_port)" "$(free_port)")
  replica_pids=()
  for i in 0 1 2; do start_replica "$i"; replica_pids+=("$started_pid"); done
  python3 "$work/loadgen.py" wait "${ports[@]}"
  sleep 1 # let the peer links come up
}

# 1. Throughput through r1, replicated to r2 and r3.
start_trio throughput
read -r _ n accepted replicated < <(python3 "$work/loadgen.py" throughput "${ports[0]}" "${ports[1]},${ports[2]}" "$updates" "$connections")
rss=$(awk '/VmHWM/ {print int($2/1024)}' /proc/"${replica_pids[0]}"/status)
kill -9 "${replica_pids[@]}"; wait "${replica_pids[@]}" 2>/dev/null || true

# 2. Convergence: kill -9 r3, change through r1 while it is down, restart it.
start_trio converge
kill -9 "${replica_pids[2]}"
wait "${replica_pids[2]}" 2>/dev/null || true
python3 "$work/loadgen.py" changes "${ports[0]}" "$changes"
python3 "$work/loadgen.py" converge "${ports[1]}" "$changes" "$(date +%s.%N)" >/dev/null # r2 has them all
since=$(date +%s.%N)
start_replica 2
read -r _ converged < <(python3 "$work/loadgen.py" converge "${ports[2]}" "$changes" "$since")

summary=$(python3 - "$n" "$accepted" "$replicated" "$changes" "$converged" <<'PY'
import sys
n, accepted, replicated, changes, converged = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
print(f"| client updates accepted (written) by r1 | {n:,} in {accepted:.2f} s | {n/accepted:,.0f} updates/s | ≥ 50,000/s |")
print(f"| … and replicated to both peers | {n:,} in {replicated:.2f} s | {n/replicated:,.0f} updates/s | ≥ 50,000/s |")
print(f"| r3 restarted after kill -9, converged | {changes:,} changes missed | {converged:.2f} s | < 2 s |")
PY
)

section=$(cat <<MD
## Contacts: \`Benchmarks/contacts.sh\`

Command: \`Benchmarks/contacts.sh $updates $connections $changes\` (release build; three \`parley serve contacts\` replicas
r1, r2, r3 in a full mesh on loopback, each on its own SQLite file; a Python client from the seed's tables sends
pipelined Updates over $connections connections, one user each). Machine: $(nproc) cores,
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(date -u +%Y-%m-%d). The load
generator and all three replicas share the same cores. Peak RSS of r1 after the throughput run: $rss MiB.

| what | amount | result | goal |
|---|---|---|---|
$summary
MD
)
echo "$section"
[[ "${BENCH_NO_WRITE:-}" == 1 ]] && exit 0
python3 - "$section" <<'PY'
import re, sys, pathlib
section = sys.argv[1].rstrip() + "\n"
path = pathlib.Path("BENCHMARKS.md")
text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured on this project's machines; each section says how.\n"
pattern = re.compile(r"## Contacts: `Benchmarks/contacts.sh`.*?(?=\n## |\Z)", re.S)
text = pattern.sub(lambda _: section.rstrip("\n"), text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
path.write_text(text if text.endswith("\n") else text + "\n")
PY
