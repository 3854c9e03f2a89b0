# syntax=docker/dockerfile:1
# The pcve-warehouse image: Airflow 3 + the project (ingest, GX, dbt, exports) from the lock file.
# Used by every Airflow service of docker-compose.yml. Build: `docker compose build`.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm

# uv from PyPI, pinned; the dependency versions themselves come from uv.lock (--frozen).
ARG UV_VERSION=0.13.9
# Beyond the default dependencies: the `docker` dependency group (in pyproject.toml) carries
# what only the compose deployment needs: the PostgreSQL driver of the metadata DB, the
# Celery provider + redis client for the celery/scale profile, dbt-postgres for PCVE_WAREHOUSE.
ARG UV_SYNC_ARGS="--no-dev --group docker"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/pcve/venv \
    PATH=/opt/pcve/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/pcve/app/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    PCVE_HOME=/opt/pcve/home

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl tini \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /opt/pcve/app

# 1. Third-party dependencies only, exactly as locked (a cached layer while the lock is unchanged).
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-install-project ${UV_SYNC_ARGS}

# 2. The project itself: each top-level folder is a stage of the data's journey.
COPY config/ config/
COPY pcve/ pcve/
COPY ingest/ ingest/
COPY expectations/ expectations/
COPY exports/ exports/
COPY dbt_project/ dbt_project/
COPY dags/ dags/
RUN uv sync --frozen ${UV_SYNC_ARGS} \
    && rm -rf dbt_project/target dbt_project/logs

# Non-root, Airflow's convention: uid 50000, group 0 (works with OpenShift-style random uids).
# The named volumes mounted on these folders start with this ownership.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --no-create-home --shell /bin/bash airflow \
    && mkdir -p /opt/airflow/logs /opt/airflow/auth /opt/pcve/home \
    && chown -R 50000:0 /opt/airflow /opt/pcve/home /opt/pcve/app/dbt_project \
    && chmod -R g+rwX /opt/airflow /opt/pcve/home /opt/pcve/app/dbt_project

USER 50000:0
ENTRYPOINT ["/usr/bin/tini", "--", "airflow"]
CMD ["version"]
