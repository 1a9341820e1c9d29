#!/usr/bin/env bash
# Sets up and runs the shop example on this host: installs what is missing, starts a control plane and
# a daemon in the background (unless they already run), builds the shop image offline, brings the app
# up with `weft up` (four services with sidecars and a load generator), waits for the first traces and
# prints the dashboard's address.
#   sudo bash examples/shop/demo.sh        start (again: converges the running app to weft.yaml)
#   sudo bash examples/shop/demo.sh down   remove the app and stop both processes
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
if [ "$(id -u)" != 0 ]; then echo "demo.sh: run as root (containers, namespaces, iptables)" >&2; exit 1; fi
state=/var/lib/weft
logs=/var/log/weft
weft() { node "$repo/bin/weft.cjs" "$@"; }
export WEFT_HOST=unix:///run/weft/weft.sock WEFT_CONTROL_PLANE=http://127.0.0.1:15080
dashboard=http://127.0.0.1:15080/

if [ "${1:-}" = down ]; then
  weft down -f examples/shop/weft.yaml 2>/dev/null || true
  for p in daemon control-plane; do
    [ -f "/run/weft/$p.pid" ] && kill "$(cat "/run/weft/$p.pid")" 2>/dev/null || true
    rm -f "/run/weft/$p.pid"
  done
  # What the daemon made for the demo and leaves in place while it runs: its bridge, the FORWARD rules
  # for it, and its (now empty) cgroup parent.
  iptables -D FORWARD -i weft0 -j ACCEPT 2>/dev/null || true
  iptables -D FORWARD -o weft0 -j ACCEPT 2>/dev/null || true
  ip link delete weft0 2>/dev/null || true
  rmdir /sys/fs/cgroup/*/weft /sys/fs/cgroup/weft 2>/dev/null || true
  echo "shop: stopped"
  exit 0
fi

echo "[1/7] Debian packages"
sh scripts/install-deps.sh
echo "[2/7] npm packages and build"
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; else node scripts/build.mjs; fi
mkdir -p "$state" "$logs" /run/weft

start() { # name, ready-check command, args...
  local name=$1 check=$2; shift 2
  if eval "$check" >/dev/null 2>&1; then echo "      $name already running"; return; fi
  setsid node "$repo/bin/weft.cjs" "$name" "$@" >>"$logs/$name.log" 2>&1 < /dev/null &
  echo $! >"/run/weft/$name.pid"
  for _ in $(seq 1 150); do eval "$check" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "demo.sh: $name did not become ready; see $logs/$name.log" >&2; tail -20 "$logs/$name.log" >&2; exit 1
}
echo "[3/7] control plane (gRPC :15010, HTTP and dashboard :15080, OTLP :4317/:4318; log $logs/control-plane.log)"
start control-plane "curl -fsS http://127.0.0.1:15080/api/v1/services" --data-dir "$state/control-plane"
echo "[4/7] daemon (socket /run/weft/weft.sock, bridge weft0; log $logs/daemon.log)"
start daemon "weft ps" --state-dir "$state"

echo "[5/7] image shop (node and the shop program, built offline)"
weft image build -f examples/shop/image.yaml >/dev/null

echo "[6/7] the shop: frontend, catalog x2, reviews, ratings, loadgen (each with a sidecar)"
weft up -d -f examples/shop/weft.yaml
weft apply -f examples/shop/mesh.yaml >/dev/null

echo "[7/7] waiting for the first traces"
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:15080/api/v1/traces?service=frontend&since=30s&limit=1" | grep -q traceId; then break; fi
  sleep 1
done
weft ps
cat <<TRY

Weft is running the shop. Dashboard: $dashboard
The load generator calls the frontend 5 times a second; reviews is slow and ratings fails 1 request in 10.
Try next:
  export WEFT_HOST=$WEFT_HOST WEFT_CONTROL_PLANE=$WEFT_CONTROL_PLANE
  curl -s http://127.0.0.1:18080/                          # the frontend, published on the host
  node bin/weft.cjs services                               # the registry: virtual IPs, and what each service served
  node bin/weft.cjs traces --service ratings --status error   # ratings' failures (the mesh retried them)
  node bin/weft.cjs trace \$(node bin/weft.cjs traces --service ratings --status error --json --limit 1 | node -pe 'JSON.parse(require("fs").readFileSync(0))[0].traceId')
  node bin/weft.cjs logs --service ratings -f              # logs of every replica, live
  node bin/weft.cjs proxy-status                           # what each sidecar accepted
  docker -H \$WEFT_HOST ps                                  # the Docker CLI works against the daemon
  curl -s http://127.0.0.1:15080/v1/catalog/service/catalog   # Consul-compatible API
  busybox nslookup -port=8600 catalog.service.consul 127.0.0.1   # and Consul's DNS
  sudo bash examples/shop/demo.sh down                     # stop it all
TRY
