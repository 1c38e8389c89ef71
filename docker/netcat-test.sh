#!/usr/bin/env bash
# Netcat check of the echo server: send one line, expect the same bytes back.
#
#   docker/netcat-test.sh local [HOST] [PORT]
#       this machine's nc against an echo-server running here (default 127.0.0.1 12345);
#       needs netcat-openbsd (`apt-get install -y netcat-openbsd`).
#   docker/netcat-test.sh compose [--network NET] [SERVICE] [PORT]
#       nc inside a throwaway busybox container on the compose network, so nothing is installed on the host and
#       no port is published (default service echo-server, port 12345; the network is the one the running
#       SERVICE container is attached to, unless --network names it). DOCKER=podman runs it with podman; where no
#       registry can be reached, BUSYBOX_IMAGE names a local stand-in (docker/stand-ins/busybox.sh).
#
# Exit 0 when the reply matches, 1 when it does not, 2 on a usage or environment problem.
set -euo pipefail

BUSYBOX_IMAGE=${BUSYBOX_IMAGE:-busybox:1.36}
DOCKER=${DOCKER:-docker}
mode=${1:-local}
shift || true
message="netcat check $$-${RANDOM} ñ"

fail() {
  echo "netcat-test: $*" >&2
  exit 2
}

check() {
  local reply=$1
  if [ "$reply" = "$message" ]; then
    echo "OK: echo-server answered \"$reply\""
  else
    echo "FAIL: sent \"$message\", got \"$reply\"" >&2
    exit 1
  fi
}

case "$mode" in
  local)
    host=${1:-127.0.0.1}
    port=${2:-12345}
    command -v nc >/dev/null || fail "nc not found; install it with: apt-get install -y netcat-openbsd"
    # OpenBSD nc: -N half-closes after stdin ends, so the reply arrives and nc exits without waiting.
    # Other netcats: -q 1 quits a second after stdin ends.
    if nc -h 2>&1 | grep -q -- '-N'; then flags=(-N -w 5); else flags=(-q 1 -w 5); fi
    reply=$(printf '%s\n' "$message" | nc "${flags[@]}" "$host" "$port" || true)
    check "$reply"
    ;;
  compose)
    network=
    if [ "${1:-}" = "--network" ]; then
      network=${2:?--network needs a name}
      shift 2
    fi
    service=${1:-echo-server}
    port=${2:-12345}
    command -v "$DOCKER" >/dev/null || fail "$DOCKER not found"
    if [ -z "$network" ]; then
      container=$("$DOCKER" ps -q --filter "label=com.docker.compose.service=$service") ||
        fail "cannot list containers (is the container engine running?)"
      container=${container%%$'\n'*}
      [ -n "$container" ] || fail "no running container for compose service \"$service\" (is the stack up?)"
      network=$("$DOCKER" inspect -f '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}' "$container" |
        awk '{print $1}')
    fi
    # busybox nc does not close its side when stdin ends; -w bounds the final read instead, and its exit status
    # is ignored so that a failing `docker run` (no daemon, no image, no network) is told apart from a bad reply.
    reply=$("$DOCKER" run --rm --network "$network" "$BUSYBOX_IMAGE" \
      sh -c 'printf "%s\n" "$1" | nc -w 3 "$2" "$3"; exit 0' -- "$message" "$service" "$port") ||
      fail "$DOCKER run on network \"$network\" failed"
    check "$reply"
    ;;
  *)
    fail "usage: $0 local [HOST] [PORT] | compose [--network NET] [SERVICE] [PORT]"
    ;;
esac
