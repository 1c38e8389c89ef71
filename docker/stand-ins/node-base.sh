#!/usr/bin/env bash
# Builds a local stand-in for node:24-bookworm-slim where no image registry can be reached: Debian bookworm
# (debootstrap minbase), Node 24 from the npm registry (node-linux-<cpu>, the version and integrity the project's
# package-lock.json pins for scripts/node-runtime), this machine's npm, the `node` user (uid/gid 1000) and this
# machine's CA bundle (npm inside a build must trust the same certificate authorities as the host).
#
#   docker/stand-ins/node-base.sh IMAGE        e.g. localhost/polyrole-node-base:24
#
# Needs root, debootstrap, openssl, node and npm (any version) and the container engine's CLI (ENGINE, default podman;
# `docker` works the same).
set -euo pipefail

image=${1:?usage: $0 IMAGE}
engine=${ENGINE:-podman}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(cd "$(dirname "$0")/../.." && pwd)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

case "$(uname -m)" in
  x86_64) cpu=x64 ;;
  aarch64) cpu=arm64 ;;
  *) echo "node-base: no Node build on the npm registry for $(uname -m) (only x86_64 and aarch64)" >&2; exit 2 ;;
esac
# The pinned package: version and integrity from the lockfile, so the image runs exactly the Node npm ci installs.
read -r version integrity < <(node -e '
  const entry = require(process.argv[1]).packages["node_modules/node-linux-" + process.argv[2]];
  if (!entry) { console.error("package-lock.json pins no node-linux-" + process.argv[2]); process.exit(2); }
  console.log(entry.version, entry.integrity);' "$root/package-lock.json" "$cpu")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$work/$(npm pack --silent --pack-destination "$work" "node-linux-$cpu@$version" | tail -1)
got=sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)
if [ "$got" != "$integrity" ]; then
  echo "node-base: node-linux-$cpu@$version has integrity $got, package-lock.json pins $integrity" >&2
  exit 1
fi
mkdir -p "$work/node"
tar -xzf "$tarball" -C "$work/node"

rootfs=$work/rootfs
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" env TMPDIR=/tmp sh -c 'groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node'
# minbase has no ca-certificates package.
mkdir -p "$rootfs/etc/ssl/certs"
cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | "$engine" import \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin' \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "node-base: built $image (Node $version from node-linux-$cpu, Debian bookworm)"
