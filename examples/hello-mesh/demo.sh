#!/usr/bin/env bash
# Sets up and runs the hello-mesh example on this host: installs what is missing, starts a control plane
# and a daemon in the background (unless they already run), builds and imports the example image, runs the
# back and front services with sidecars, calls front, and prints what to try next.
#   sudo bash examples/hello-mesh/demo.sh        start (again: replaces the two containers)
#   sudo bash examples/hello-mesh/demo.sh down   remove the containers and stop both processes
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
if [ "$(id -u)" != 0 ]; then echo "demo.sh: run as root (containers, namespaces, iptables)" >&2; exit 1; fi
state=/var/lib/weft
logs=/var/log/weft
weft() { node "$repo/bin/weft.cjs" "$@"; }
export WEFT_HOST=unix:///run/weft/weft.sock WEFT_CONTROL_PLANE=http://127.0.0.1:15080

if [ "${1:-}" = down ]; then
  weft rm -f front back 2>/dev/null || true
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
  echo "hello-mesh: stopped"
  exit 0
fi

echo "[1/6] Debian packages"
sh scripts/install-deps.sh
echo "[2/6] npm packages and build"
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; else node scripts/build.mjs; fi
mkdir -p "$state" "$logs" /run/weft

start() { # name, ready-check command, args...
  local name=$1 check=$2; shift 2
  if eval "$check" >/dev/null 2>&1; then echo "      $name already running"; return; fi
  setsid node "$repo/bin/weft.cjs" "$name" "$@" >>"$logs/$name.log" 2>&1 < /dev/null &
  echo $! >"/run/weft/$name.pid"
  for _ in $(seq 1 100); do eval "$check" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "demo.sh: $name did not become ready; see $logs/$name.log" >&2; tail -20 "$logs/$name.log" >&2; exit 1
}
echo "[3/6] control plane (gRPC :15010, HTTP :15080; log $logs/control-plane.log)"
start control-plane "curl -fsS http://127.0.0.1:15080/api/v1/services" --data-dir "$state/control-plane"
echo "[4/6] daemon (socket /run/weft/weft.sock, bridge weft0; log $logs/daemon.log)"
start daemon "weft ps" --state-dir "$state"

echo "[5/6] image hello-mesh (busybox httpd and wget, built offline)"
weft image build -f examples/hello-mesh/image.yaml >/dev/null

echo "[6/6] services back and front, each with a sidecar"
weft rm -f front back >/dev/null 2>&1 || true
weft run -d --name back --service back --port 8080/http --label version=v1 --memory 64m hello-mesh httpd -f -p 8080 -h /www/back >/dev/null
weft run -d --name front --service front --port 8080/http --memory 64m hello-mesh httpd -f -p 8080 -h /www/front >/dev/null
weft ps
echo
echo "front calls back (wget inside front, through both sidecars):"
weft exec front timeout 20 wget -q -O - http://127.0.0.1:8080/cgi-bin/call | sed 's/^/    /'
cat <<TRY

Weft is running. Control plane: http://127.0.0.1:15080/api/v1/services (the dashboard will live at http://127.0.0.1:15080/)
Try next:
  export WEFT_HOST=$WEFT_HOST WEFT_CONTROL_PLANE=$WEFT_CONTROL_PLANE
  node bin/weft.cjs ps                                     # containers, addresses, services
  node bin/weft.cjs services                               # the registry, with virtual IPs
  node bin/weft.cjs endpoints back
  node bin/weft.cjs apply -f examples/hello-mesh/mesh.yaml # routes, policies, telemetry
  node bin/weft.cjs get routes                             # and: get route back -o yaml, history route back
  node bin/weft.cjs proxy-status                           # what each sidecar accepted
  node bin/weft.cjs exec front wget -S -q -O - http://back:8080/   # Via shows both sidecars
  curl -s http://127.0.0.1:15080/v1/catalog/service/back   # Consul-compatible API
  curl -s http://127.0.0.1:15080/api/v1/sd/prometheus      # Prometheus http_sd targets
  curl -s http://\$(node bin/weft.cjs ps --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).find(c=>c.name==="back").address'):15090/metrics
  node bin/weft.cjs logs back
  sudo bash examples/hello-mesh/demo.sh down               # stop it all
TRY
