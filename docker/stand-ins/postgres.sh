#!/usr/bin/env bash
# Builds a local stand-in for the official postgres image where no image registry can be reached: Debian
# bookworm (debootstrap minbase) with Debian's PostgreSQL 15 and an entrypoint honouring the official image's
# contract (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA=/var/lib/postgresql/data, pg_isready on PATH).
#
#   docker/stand-ins/postgres.sh IMAGE         e.g. localhost/polyrole-postgres:15
#
# Needs root, debootstrap and the container engine's CLI (ENGINE, default podman; `docker` works the same).
set -euo pipefail

image=${1:?usage: $0 IMAGE}
engine=${ENGINE:-podman}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
here=$(dirname "$(readlink -f "$0")")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
# The package's own cluster is not wanted (the entrypoint makes one in PGDATA), nor may its install start a server.
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }
mkdir -p "$rootfs/etc/postgresql-common/createcluster.d"
echo 'create_main_cluster = false' >"$rootfs/etc/postgresql-common/createcluster.d/stand-in.conf"
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
# The chroot has only its own /tmp: a TMPDIR of the caller's (a test run's own temporary directory) would make
# every mktemp inside fail, ssl-cert's snakeoil certificate first, and postgresql-15 with it.
chroot "$rootfs" env TMPDIR=/tmp sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends postgresql-15' >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; exit 1; }
rm -f "$rootfs/usr/sbin/policy-rc.d"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
install -m 0755 "$here/postgres-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"

tar -C "$rootfs" -c . | "$engine" import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'VOLUME /var/lib/postgresql/data' \
  --change 'EXPOSE 5432' \
  --change 'STOPSIGNAL SIGINT' \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]' \
  - "$image" >/dev/null
echo "postgres: built $image (Debian's PostgreSQL 15)"
