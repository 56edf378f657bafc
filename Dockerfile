# One image for every driftloop service; the service is chosen by the command
# (`driftloop-<service>`, or `driftloop` for the ops CLI), as docker-compose.yml
# and deploy/k8s do. Build: `docker build --build-arg VERSION=0.1.0
# --build-arg SOURCE=<repository URL> -t driftloop:0.1.0 .` (or podman/buildah).
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
RUN python3 -m pip install --no-cache-dir uv
# The venv is built where it runs, so console-script shebangs
# (#!/opt/driftloop/bin/python) are right in the final image.
ENV UV_PROJECT_ENVIRONMENT=/opt/driftloop \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY cli cli
COPY services services
RUN uv sync --frozen --no-dev --no-editable

FROM ${BASE}
ARG VERSION=0.1.0
ARG SOURCE=""
ARG REVISION=""
LABEL org.opencontainers.image.title="driftloop" \
      org.opencontainers.image.description="driftloop: an event-driven MLOps platform (all six services and the CLI)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"
# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it; /data is the
# services' state directory (a volume) and belongs to that user.
RUN groupadd --gid 10001 driftloop \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /data driftloop \
    && mkdir -p /data \
    && chown 10001:10001 /data
# No uv, compilers or sources here: only the built venv.
COPY --from=build /opt/driftloop /opt/driftloop
ENV PATH=/opt/driftloop/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    DRIFTLOOP_GRPC_HOST=0.0.0.0 \
    DRIFTLOOP_METRICS_HOST=0.0.0.0 \
    DRIFTLOOP_LOG_FORMAT=json \
    DRIFTLOOP_DATA_DIR=/data
USER 10001:10001
WORKDIR /data
VOLUME /data
# Healthy when the service in this container reports SERVING on gRPC health
# (whichever of the six it is, on its default port plus DRIFTLOOP_PORT_OFFSET).
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-m", "driftloop_cli.probe"]
CMD ["driftloop", "--help"]
