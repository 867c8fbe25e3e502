# syntax=docker/dockerfile:1
# jobimport: one image for every role (`serve --role all|web|worker`). Configuration only through
# JOBIMPORT_* environment variables. Build steps live in docker/build.sh (CI runs the same script).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY docker/build.sh /usr/local/bin/jobimport-build
RUN jobimport-build wheels /src /wheels

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/jobimport/bin:$PATH \
    JOBIMPORT_HOST=0.0.0.0 \
    JOBIMPORT_PORT=8000 \
    JOBIMPORT_DATABASE_URL=sqlite:////data/jobimport.db
COPY --from=build /wheels /wheels
COPY docker/build.sh /usr/local/bin/jobimport-build
RUN jobimport-build install /wheels /opt/jobimport \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data --create-home jobimport
USER jobimport
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
STOPSIGNAL SIGTERM
# web roles answer /readyz; a worker is checked through arq's health key in Redis.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["jobimport", "healthcheck"]
ENTRYPOINT ["jobimport"]
CMD ["serve", "--role", "all"]
