FROM python:3.11-slim

RUN useradd --create-home --uid 10001 gatekeeper
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY gatekeeper ./gatekeeper
COPY static ./static
COPY sites ./sites
# The project itself, with asyncpg for PostgreSQL (the compose file's database); no
# Playwright: the audit is not part of the server. Dependencies are pinned by range in
# pyproject.toml, not here.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir '.[postgres]' && mkdir /data && chown gatekeeper /data

USER 10001
# The consent log (SQLite) and the development key live on the volume; in production
# set GATEKEEPER_SECRET_KEYS (and GATEKEEPER_DATABASE_URL for PostgreSQL; compose.yaml).
# Your own sites: docker run -v ./sites:/app/sites:ro … (the example sites are baked in).
# Behind a reverse proxy or load balancer, set GATEKEEPER_FORWARDED_ALLOW_IPS to its
# address or network, so cookies are Secure over https and the log sees the visitor.
VOLUME ["/data"]
# GATEKEEPER_SECRET_FILE is a path where a development key is kept, not a secret itself.
# hadolint ignore=DL3064
ENV GATEKEEPER_HOST=0.0.0.0 \
    GATEKEEPER_PORT=8000 \
    GATEKEEPER_SITES_DIR=/app/sites \
    GATEKEEPER_DATABASE_URL=sqlite:////data/gatekeeper.db \
    GATEKEEPER_SECRET_FILE=/data/secret \
    GATEKEEPER_RECEIPT_KEY_FILE=/data/receipt-key
EXPOSE 8000
# /healthz answers 503 when the consent log is unreachable: the container turns unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GATEKEEPER_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["gatekeeper"]
CMD ["serve"]
