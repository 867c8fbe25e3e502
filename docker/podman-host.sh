#!/bin/sh
# Host settings podman needs on machines like the CI's (no image registry, hybrid cgroups, low
# rlimits); see docs/operations.md "Building the image". Idempotent; run as root. Writes a drop-in
# (containers.conf.d) so an existing containers.conf is left alone.
set -eu
mkdir -p /etc/containers/containers.conf.d
cat > /etc/containers/containers.conf.d/50-jobimport.conf <<'CONF'
# Written by jobimport's docker/podman-host.sh.
[containers]
# The default rlimits exceed this machine's hard limits ("setrlimit RLIMIT_NOFILE: Operation not permitted").
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
# crun refuses hybrid cgroups ("cgroups in hybrid mode not supported"); runc runs.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
if [ ! -e /etc/containers/storage.conf ]; then
    cat > /etc/containers/storage.conf <<'CONF'
# Written by jobimport's docker/podman-host.sh.
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
fi
