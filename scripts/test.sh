#!/usr/bin/env bash
# Runs Parley's whole test suite on a fresh machine: installs what is missing, builds
# once with the tests, then runs them. Usage: scripts/test.sh [extra `swift test` args]
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/opt/swift/usr/bin:$PATH"

# Debian packages the tests start or call. Installed only when missing.
needed=()
command -v git >/dev/null || needed+=(git)
command -v curl >/dev/null || needed+=(curl)
command -v go >/dev/null || needed+=(golang-go)        # a Go net/rpc/jsonrpc client calls the backend
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || needed+=(postgresql)  # storage tests start a private server
command -v openssl >/dev/null || needed+=(openssl)     # self-signed certificates for PostgreSQL and SMTP over TLS
command -v redis-server >/dev/null || needed+=(redis-server)  # Redis client tests start a server
[ -x /usr/share/zookeeper/bin/zkServer.sh ] || needed+=(zookeeper)     # ZooKeeper client tests start servers
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || needed+=(python3-aiosmtpd)  # the SMTP server the mail tests send to
# The chat page's browser test (Tests/browser/chat_test.py): headless Chromium, its driver, and
# Selenium for Debian's python3 (from Debian, so pip and PyPI are not needed).
[ -x /usr/bin/chromium ] || needed+=(chromium)
[ -x /usr/bin/chromedriver ] || needed+=(chromium-driver)
/usr/bin/python3 -c 'import selenium' 2>/dev/null || needed+=(python3-selenium)
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing: ${needed[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}"
fi

command -v swift >/dev/null || { echo "swift not found: install Swift 6.x (see README)" >&2; exit 1; }

# One build with the tests, then run without rebuilding (a plain `swift test` after
# `swift build` rebuilds with other settings). The suites start real servers (PostgreSQL,
# ZooKeeper JVMs, Redis, SMTP, parley processes); run one test at a time so that on a
# 2-core machine no test starves another of the time its protocol allows.
swift build --build-tests
swift test --skip-build --no-parallel "$@"
