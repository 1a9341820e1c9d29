#!/bin/sh
# Installs the Debian packages Weft needs, only those missing. Run as root on Debian/Ubuntu.
#   runc: runs containers; iproute2 + iptables: the workload network and interception rules;
#   busybox-static: the example images; conmon: per-container monitor; attr: overlay whiteouts;
#   util-linux: nsenter; python3 make g++: node-gyp for the SO_ORIGINAL_DST addon and better-sqlite3;
#   socat: input to a container (run -i, attach) through conmon's SOCK_SEQPACKET attach socket;
#   prometheus: the tests run it (never the packaged service) to check the HTTP service discovery.
#   golang-github-containers-common: /usr/share/containers/seccomp.json, containers' default seccomp profile.
#   chromium: the dashboard's tests drive it headless; nghttp2-client: h2load sends h2c through sidecars.
#   docker.io, only where no docker client exists: the Engine API tests drive the real docker CLI
#   (its daemon is never started: see policy-rc.d below; bench/start.ts runs a private dockerd of its own,
#   so WEFT_BENCH_DEPS=1 installs docker.io even where a docker client exists).
#   docker-compose (1.29, Python): its tests run it against the daemon's Docker API.
set -eu
packages="runc iproute2 iptables busybox-static conmon attr util-linux socat procps psmisc curl ca-certificates python3 make g++ tar prometheus golang-github-containers-common chromium nghttp2-client docker-compose"
if ! command -v docker >/dev/null 2>&1; then packages="$packages docker.io"; fi
if [ "${WEFT_BENCH_DEPS:-}" = 1 ]; then packages="$packages wrk haproxy nginx-light docker.io"; fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages:$missing; run this script as root" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages such as prometheus and haproxy ship services that would start listening on every address;
# Weft only runs their binaries itself, so their services are kept from starting (policy-rc.d: 101).
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  made_policy=1
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || status=$?
[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
if [ "${status:-0}" != 0 ]; then
  echo "install-deps: apt-get install failed ($status)" >&2
  exit 1
fi
echo "install-deps: done"
