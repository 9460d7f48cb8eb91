# One image for every vidassets process: the API, the Dagster code server, webserver and daemon.
# The bundled ffmpeg comes from the imageio-ffmpeg wheel (libx264, libass, drawtext, xfade).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/home VIDASSETS_DATA_DIR=/var/lib/vidassets
RUN useradd --create-home --uid 10001 vidassets \
 && mkdir -p /opt/dagster/home /var/lib/vidassets /app && chown -R vidassets /opt/dagster /var/lib/vidassets
WORKDIR /app
COPY pyproject.toml README.md ./
COPY vidassets ./vidassets
COPY api ./api
RUN pip install .
COPY workspace.yaml ./
COPY deploy/dagster.yaml /opt/dagster/home/dagster.yaml
USER vidassets
EXPOSE 3000 3001 4000
# Default: the API. Compose/Helm override the command for the other roles:
#   dagster api grpc -m vidassets.dagster.definitions -a defs -h 0.0.0.0 -p 4000   (code server)
#   dagster-webserver -h 0.0.0.0 -p 3001 -w workspace.yaml                          (UI + GraphQL)
#   dagster-daemon run -w workspace.yaml                                            (queue, sensors, schedules)
CMD ["sh", "-c", "vidassets migrate && exec uvicorn api.main:app --host 0.0.0.0 --port 3000 --proxy-headers"]
