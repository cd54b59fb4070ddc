# One image for the API and for jobs: `docker run IMAGE` serves; `docker run IMAGE finmatch seed`
# (or any finmatch command) runs a job. Migrations run at start unless FINMATCH_MIGRATE=0.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY service ./service
RUN pip install . && useradd --system --uid 10001 --home-dir /app finmatch
COPY alembic.ini ./
COPY migrations ./migrations
COPY seed ./seed
COPY scripts/docker-entrypoint ./scripts/docker-entrypoint
RUN mkdir -p /app/var && chown -R finmatch /app/var

USER finmatch
EXPOSE 8000
ENTRYPOINT ["/app/scripts/docker-entrypoint"]
CMD ["finmatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
