#!/usr/bin/env bash
# Builds a local stand-in for the busybox image (docker/netcat-test.sh runs its nc) where no image registry can be
# reached: Debian's statically linked busybox and its applet links, nothing else.
#
#   docker/stand-ins/busybox.sh IMAGE          e.g. localhost/polyrole-busybox:1.35
#
# Needs apt-get (the package is downloaded, not installed) and the container engine's CLI (ENGINE, default podman).
set -euo pipefail

image=${1:?usage: $0 IMAGE}
engine=${ENGINE:-podman}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq busybox-static >/dev/null 2>&1) ||
  (apt-get update -qq && cd "$work" && apt-get download -qq busybox-static >/dev/null)
dpkg-deb -x "$work"/busybox-static_*.deb "$work/pkg"
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/tmp"
cp "$work/pkg/bin/busybox" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done

tar -C "$rootfs" -c . | "$engine" import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$image" >/dev/null
echo "busybox: built $image (Debian's busybox-static)"
