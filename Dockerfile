# One image for every driftloop service; the service is chosen by the command
# (`python -m driftloop_<service>`), as docker-compose.yml and deploy/ do.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY cli cli
COPY services services
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --create-home driftloop
COPY --from=build /src/.venv /opt/driftloop
ENV PATH=/opt/driftloop/bin:$PATH \
    DRIFTLOOP_GRPC_HOST=0.0.0.0 \
    DRIFTLOOP_METRICS_HOST=0.0.0.0 \
    DRIFTLOOP_LOG_FORMAT=json \
    DRIFTLOOP_DATA_DIR=/data
USER driftloop
VOLUME /data
CMD ["driftloop", "--help"]
