#!/bin/sh
# A stand-in for python:3.11-slim where no image registry can be reached: Debian bookworm made with
# debootstrap (Debian's Python 3.11), imported into podman. Prints the image name to use as
#   podman build --build-arg BASE_IMAGE=<name> ...
# The root filesystem is cached as a tarball keyed by this recipe (JOBIMPORT_BASE_CACHE, default
# /var/cache/jobimport-base), and imported only when podman does not have the image yet. Root only.
set -eu
suite=bookworm
include=python3,python3-venv,python3-pip,ca-certificates
# The mirror apt already uses here (deb822 or one-line sources), else Debian's.
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p; s/^deb  *\(http[^ ]*\) .*/\1/p' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
key=$(printf '%s\n' "$suite" minbase "$include" | sha256sum | cut -c1-12)
name=localhost/jobimport-base:$suite-$key
cache=${JOBIMPORT_BASE_CACHE:-/var/cache/jobimport-base}
tarball=$cache/$suite-$key.tar
mkdir -p "$cache"
# One maker at a time (.ci/run starts one early, in the background; the tests wait for it).
exec 9>"$cache/.lock"
flock 9
if podman image exists "$name"; then
    echo "$name"
    exit 0
fi
if [ ! -s "$tarball" ]; then
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" "$mirror" >&2
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
fi
podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "$name" >/dev/null
echo "$name"
