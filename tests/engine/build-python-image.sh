#!/usr/bin/env bash
# Builds kfpl-test/python:1, the image tests/engine.rs runs examples/digits.kfp
# in, from Debian's packages without a registry: mmdebstrap's `extract`
# variant unpacks python3-minimal, libpython3-stdlib (digits imports json, which
# python3-minimal lacks), busybox-static (the shell and the coreutils
# the steps call) and their dependencies, from the same suite and mirror as
# this machine's apt, without running any package script. Documentation,
# manuals, translations and iconv modules are dropped: 43 MB is left.
#
# The rootfs tarball is kept under /var/cache/kfpl-test/, named by this
# script's hash, so a later CI run only imports it (a changed script builds
# afresh). Skipped when the image exists and was built by this very script
# (its label `kfpl.build` holds the hash).
set -euo pipefail
image=kfpl-test/python:1
hash=$(sha256sum "$0" | cut -c1-16)
built=$(podman image inspect --format '{{index .Labels "kfpl.build"}}' "$image" 2>/dev/null || true)
[ "$built" = "$hash" ] && exit 0

cache_dir=${KFPL_TEST_CACHE:-/var/cache/kfpl-test}
tarball="$cache_dir/python-rootfs-$hash.tar"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The rootfs as a tarball: the suite and sources are this machine's.
build_rootfs() {
  local out=$1 suite sources=()
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -s "$file" ] && sources+=("$file")
  done
  mmdebstrap --quiet --variant=extract \
    --include=python3-minimal,libpython3-stdlib,busybox-static \
    "$suite" "$work/extract.tar" "${sources[@]}" </dev/null
  local root="$work/root"
  mkdir -p "$root"
  tar -C "$root" -xf "$work/extract.tar"
  # Nothing here reads them: documentation, translations, iconv modules.
  rm -rf "$root"/usr/share/{doc,man,info,locale,lintian} "$root"/usr/lib/x86_64-linux-gnu/gconv \
    "$root"/var/cache/apt "$root"/var/lib/apt
  # busybox gives the shell and the coreutils, where Debian put no program.
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  # A file only the image has: the tests read it to prove where a step ran.
  echo "inside kfpl-test/python" >"$root/etc/kfpl-image"
  tar -C "$root" -cf "$out.partial" . && mv "$out.partial" "$out"
}

how="imported from $tarball"
if [ ! -s "$tarball" ]; then
  how="built"
  if ! mkdir -p "$cache_dir" 2>/dev/null || [ ! -w "$cache_dir" ]; then
    tarball="$work/rootfs.tar" # no cache to keep it in: build it for this run only
  fi
  build_rootfs "$tarball"
  # Older builds of this script are stale now.
  find "$cache_dir" -maxdepth 1 -name 'python-rootfs-*.tar' ! -path "$tarball" -delete 2>/dev/null || true
fi
# The image this replaces (built by an older script) goes with its tag.
old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
podman import --quiet --change 'ENV PATH=/usr/bin:/bin' --change "LABEL kfpl.build=$hash" \
  "$tarball" "$image" >/dev/null
[ -z "$old" ] || podman rmi "$old" >/dev/null 2>&1 || true
echo "$image $how (rootfs $(du -h "$tarball" | cut -f1))"
