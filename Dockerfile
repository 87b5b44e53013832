# syntax=docker/dockerfile:1
# One image for the storage service (`alpr storage`, service kafka-consumer), the query API
# (`alpr api`, service query-api) and the migrations (`alpr migrate`).
#   docker compose build      or      docker build -t alpr-core:0.1.0 .
# Stage 1 installs the locked dependencies and the project into /app/.venv with uv; stage 2 is
# the slim runtime with that venv only: no compiler, no uv, no sources, a non-root user.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
# Dependencies first (a layer that changes only with uv.lock), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY src ./src
RUN uv sync --locked --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
# netcat: the seed's troubleshooting commands (`nc -zv kafka 29092`) work inside the containers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends netcat-openbsd \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin alpr
COPY --from=build /app/.venv /app/.venv
COPY docker/healthcheck.py /app/healthcheck.py
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ALPR_HEALTH_URL=http://127.0.0.1:8000/health
WORKDIR /app
USER alpr
EXPOSE 8000 8002
# The API answers /health on 8000; the storage service on 8002 (compose sets ALPR_HEALTH_URL).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]
ENTRYPOINT ["alpr"]
CMD ["api"]
