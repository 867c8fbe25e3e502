# jobimport: one image for every role (`serve --role all|web|worker`, or `worker`). Configuration
# only through JOBIMPORT_* environment variables. Build steps live in docker/build.sh (a test runs
# the same script). Build with `docker build .` or `podman build --format docker .` (podman's
# default OCI format drops the HEALTHCHECK); offline and pinned builds: docs/operations.md.
#
# BASE_IMAGE: any Debian-based image with Python 3.11 and its venv module at the same path in both
# stages (the virtualenv is built in one and run in the other). Pin it by digest in production:
#   --build-arg BASE_IMAGE=python:3.11-slim@sha256:<digest>
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
COPY docker/build.sh /usr/local/bin/jobimport-build
# The dependencies first, from the lock alone: this layer is rebuilt only when the lock changes.
COPY requirements/runtime.txt /src/requirements/runtime.txt
RUN jobimport-build deps /src/requirements/runtime.txt /opt/jobimport
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN jobimport-build project /src /opt/jobimport

FROM ${BASE_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/jobimport/bin:$PATH \
    JOBIMPORT_HOST=0.0.0.0 \
    JOBIMPORT_PORT=8000 \
    JOBIMPORT_DATABASE_URL=sqlite:////data/jobimport.db
# uid and gid 10001 (outside the ranges a host hands out), no home directory of its own: /data
# holds the SQLite store and nothing else. A bind mount on /data must be writable by uid 10001.
RUN groupadd --gid 10001 jobimport \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /data \
        --shell /usr/sbin/nologin jobimport \
    && install -d -o 10001 -g 10001 -m 0750 /data
COPY --from=build /opt/jobimport /opt/jobimport
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
STOPSIGNAL SIGTERM
# Probes the role that runs, whatever the command (`serve --role web`, `worker`, ...): web roles
# answer /readyz, a worker is checked through arq's health key in Redis. Exit 0 healthy, 1 not.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["jobimport", "healthcheck"]
ENTRYPOINT ["jobimport"]
CMD ["serve", "--role", "all"]
