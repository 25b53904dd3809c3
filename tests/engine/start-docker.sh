#!/usr/bin/env bash
# Starts the private Docker daemon tests/engine.rs drives `kfpl run --engine
# docker` through, and puts the test images in it. Run as root (.ci/setup does).
#
# Debian's docker.io (20.10), containerd and tini are downloaded and unpacked
# under /var/cache/kfpl-test/docker (not installed: nothing of the machine's
# changes, and no service is enabled), then dockerd runs in the background
# with its own socket, data and exec folders, so it never meets another
# daemon. Inside a container (the CI machine) it needs no iptables, no bridge
# (so containers have no network), the vfs storage driver (no overlay mounts)
# and ulimits no higher than the current ones.
#
# Idempotent: a daemon already answering at the socket is reused; a stale
# pid file or socket of a dead one is removed first. The socket's address is
# written to $state/docker-host, where tests/engine.rs reads it.
#
# The images are podman's own (tests/engine/build-*-image.sh build them):
# `podman save | docker load` gives docker the very same image (same id,
# same ENV and labels), and is skipped when docker has that id already.
set -euo pipefail
cache=${KFPL_TEST_CACHE:-/var/cache/kfpl-test}/docker
state=${KFPL_TEST_STATE:-/var/lib/kfpl-test}/docker
run=/run/kfpl-test
socket=$run/docker.sock
host=unix://$socket
images=(kfpl-test/busybox:1 kfpl-test/python:1)

unpack() {
  [ -x "$cache/root/usr/sbin/dockerd" ] && return 0
  local work
  work=$(mktemp -d)
  (cd "$work" && apt-get download docker.io containerd tini >/dev/null 2>&1)
  mkdir -p "$cache"
  rm -rf "$cache/root.partial"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$cache/root.partial"; done
  rm -rf "$work" "$cache/root"
  mv "$cache/root.partial" "$cache/root"
  echo "unpacked docker.io, containerd and tini into $cache/root"
}

# kfpl and the tests run `docker` from PATH: docker.io's client when none is there.
client() {
  command -v docker >/dev/null && return 0
  ln -s "$cache/root/usr/bin/docker" /usr/local/bin/docker
  echo "linked /usr/local/bin/docker to docker.io's client"
}

answers() { DOCKER_HOST=$host timeout 10 docker info >/dev/null 2>&1; }

pidfile=$run/dockerd.pid

# The process of pid file $1 runs (a killed one may linger as a zombie).
running() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && [ -e "/proc/$pid" ] &&
    [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

start() {
  mkdir -p "$run" "$state/data" "$state/exec"
  local daemon=$pidfile # the process to wait on
  if ! running "$pidfile"; then
    # A killed dockerd's containerd (running, or a zombie not yet reaped)
    # would be waited on in vain by the next one: it goes, with its pid file
    # and the dead daemon's.
    local containerd=$state/exec/containerd/containerd.pid
    if running "$containerd"; then
      kill "$(cat "$containerd")"
      for _ in $(seq 50); do running "$containerd" && sleep 0.1; done
    fi
    rm -f "$containerd" "$pidfile" "$socket"
    # Its own containerd, shims and docker-init come from the unpacked packages.
    PATH="$cache/root/usr/bin:$cache/root/usr/sbin:$PATH" setsid \
      dockerd -H "$host" --pidfile "$pidfile" \
      --data-root "$state/data" --exec-root "$state/exec" \
      --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
      --default-ulimit nofile=1024:1024 --default-ulimit nproc=4096:4096 \
      </dev/null >"$run/dockerd.log" 2>&1 &
    daemon=$run/dockerd.started # until dockerd writes its pid file
    echo $! >"$daemon"
  fi
  for _ in $(seq 300); do
    answers && return 0
    running "$daemon" || break # it gave up
    sleep 0.1
  done
  echo "dockerd did not answer at $host; its log ($run/dockerd.log):" >&2
  tail -20 "$run/dockerd.log" >&2
  return 1
}

load_images() {
  local image id
  for image in "${images[@]}"; do
    id=$(podman image inspect --format '{{.Id}}' "$image")
    [ "$(DOCKER_HOST=$host docker image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "sha256:$id" ] &&
      continue
    # podman names it localhost/…: docker gets the plain name, as podman resolves it.
    podman save --quiet "$image" | DOCKER_HOST=$host docker load --quiet >/dev/null
    DOCKER_HOST=$host docker tag "localhost/$image" "$image"
    DOCKER_HOST=$host docker rmi "localhost/$image" >/dev/null
    echo "loaded $image into docker"
  done
}

if ! answers; then
  unpack
  client
  start
fi
echo "$host" >"$run/docker-host"
load_images
