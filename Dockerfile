FROM python:3.11-slim

RUN useradd --create-home --uid 10001 gatekeeper
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY gatekeeper ./gatekeeper
COPY static ./static
COPY sites ./sites
RUN pip install --no-cache-dir '.[postgres]' && mkdir /data && chown gatekeeper /data

USER gatekeeper
# The consent log (SQLite) and the development key live on the volume; in production
# set GATEKEEPER_SECRET_KEYS (and GATEKEEPER_DATABASE_URL for PostgreSQL).
VOLUME ["/data"]
ENV GATEKEEPER_HOST=0.0.0.0 \
    GATEKEEPER_PORT=8000 \
    GATEKEEPER_SITES_DIR=/app/sites \
    GATEKEEPER_DATABASE_URL=sqlite:////data/gatekeeper.db \
    GATEKEEPER_SECRET_FILE=/data/secret \
    GATEKEEPER_RECEIPT_KEY_FILE=/data/receipt-key
EXPOSE 8000
ENTRYPOINT ["gatekeeper"]
CMD ["serve"]
