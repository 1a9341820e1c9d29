#!/bin/sh
# Removes what tests may have left behind when a test worker was killed before its teardown ran.
# Only test objects are touched: bridges "wtb*", netns "wt*", workload netns on test subnets
# (10.250.0.0-10.255.255.255), runc containers and mounts under /tmp/weft-test-*, cgroups "weft-test-*".
# A running demo (bridge weft0, 10.88.0.0/16, /var/lib/weft) is left alone.
set -u
for root in /tmp/weft-test-*/runc /tmp/weft-test-*/*/runc; do
  [ -d "$root" ] || continue
  for id in $(runc --root "$root" list -q 2>/dev/null); do runc --root "$root" delete -f "$id" 2>/dev/null; done
done
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
  case "$ns" in
    wt*) ip netns delete "$ns" 2>/dev/null ;;
    weft-*)
      if ip -n "$ns" -4 addr show 2>/dev/null | grep -Eq 'inet 10\.25[0-5]\.'; then ip netns delete "$ns" 2>/dev/null; fi ;;
  esac
done
for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^wtb'); do
  iptables -D FORWARD -i "$link" -j ACCEPT 2>/dev/null
  iptables -D FORWARD -o "$link" -j ACCEPT 2>/dev/null
  ip link delete "$link" 2>/dev/null
done
mount | awk '{print $3}' | grep -E '^/tmp/weft-test-' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
for base in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
  for cg in "$base"weft-test-*; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
done
pkill -f '/tmp/weft-test-.*/sidecar/sidecar.mjs' 2>/dev/null
# Per-container monitors and the test daemons and control planes themselves.
pkill -f 'conmon .*/tmp/weft-test-' 2>/dev/null
pkill -f 'weft.cjs (daemon|control-plane) .*/tmp/weft-test-' 2>/dev/null
# Test subnet claims (runtime/src/network/testing.ts) of processes that are gone.
for claim in /run/weft-test-subnets/*; do
  [ -d "$claim" ] || continue
  pid=$(cat "$claim/pid" 2>/dev/null)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then rm -rf "$claim"; fi
done
rmdir /run/weft-test-subnets 2>/dev/null
exit 0
