# One image for every Parley process: api, dashboard, worker, beat and the `parley` CLI.
# docker-compose.yml picks the process with `command:`.

# --- build: wheels of Parley and of its pinned dependencies ---------------------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
COPY workers ./workers
COPY cli ./cli
RUN pip wheel --wheel-dir /wheels .

# --- runtime: installed from those wheels only, run as an unprivileged user -----------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --home-dir /var/lib/parley --shell /usr/sbin/nologin parley \
 && mkdir -p /var/lib/parley /var/run/parley-metrics \
 && chown parley:parley /var/lib/parley /var/run/parley-metrics
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels parley && rm -rf /wheels
USER parley
WORKDIR /var/lib/parley
EXPOSE 8000 8001
# The api by default; gunicorn's settings come from the installed package.
CMD ["gunicorn", "--config", "python:services.gunicorn_conf", "--bind", "0.0.0.0:8000", "services.api:create_app()"]
