#!/usr/bin/env bash
# Builds kfpl-test/busybox:1, the image tests/engine.rs runs steps in, from
# Debian's busybox-static without a registry: the .deb is downloaded and
# unpacked (not installed, so it does not replace the host's busybox), its
# binary gets a link per applet, and the folder is imported as an image.
# Skipped when the image exists.
set -euo pipefail
image=kfpl-test/busybox:1
podman image exists "$image" && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download busybox-static 2>/dev/null >/dev/null)
dpkg-deb -x "$work"/busybox-static_*.deb "$work/deb"
root="$work/root"
mkdir -p "$root/bin" "$root/tmp" "$root/etc"
cp "$work/deb/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
# A file only the image has: the tests read it to prove where a step ran.
echo "inside kfpl-test/busybox" >"$root/etc/kfpl-image"
tar -C "$root" -c . | podman import --quiet --change 'ENV PATH=/bin' - "$image" >/dev/null
echo "built $image"
