#!/bin/sh
# Builds the hello-mesh image offline: a root filesystem holding busybox-static (httpd, wget, sh) and
# the web roots of the two services. Writes a rootfs tarball for 'weft image import'.
# usage: build-image.sh OUT.tar
set -eu
out=${1:?usage: build-image.sh OUT.tar}
here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "build-image.sh: $busybox is missing; install it with 'apt-get install busybox-static'" >&2
  exit 1
fi
root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/proc" "$root/sys" "$root/dev" "$root/www"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp -R "$here/www/." "$root/www/"
chmod 0755 "$root"/www/*/cgi-bin/* 2>/dev/null || true
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$out" .
