#!/usr/bin/env bash
# Builds a local stand-in for node:20-bookworm-slim where no image registry can be reached: Debian bookworm
# (debootstrap minbase), this machine's Node 20 and npm, the `node` user (uid/gid 1000) and this machine's CA bundle
# (npm inside a build must trust the same certificate authorities as the host).
#
#   docker/stand-ins/node-base.sh IMAGE        e.g. localhost/polyrole-node-base:20
#
# Needs root, debootstrap and the container engine's CLI (ENGINE, default podman; `docker` works the same).
set -euo pipefail

image=${1:?usage: $0 IMAGE}
engine=${ENGINE:-podman}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
node_bin=$(command -v node)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

case "$("$node_bin" --version)" in v20.*) ;; *) echo "node-base: $node_bin is not Node 20" >&2; exit 2 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" sh -c 'groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node'
# minbase has no ca-certificates package.
mkdir -p "$rootfs/etc/ssl/certs"
cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | "$engine" import \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin' \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "node-base: built $image ($("$node_bin" --version), Debian bookworm)"
