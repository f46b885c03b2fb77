# syntax=docker/dockerfile:1
# Multi-stage build: the builder compiles the plugins (wasm32-wasip2) and the
# server with exactly the project's own scripts; the runtime image holds the
# binary, the built plugins and nothing else, and runs as a non-root user.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN rustup target add wasm32-wasip2 \
 && scripts/build-plugins \
 && cargo build --locked --release -p promptsculptor

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 promptsculptor \
 && useradd --system --uid 10001 --gid promptsculptor --home-dir /app --shell /usr/sbin/nologin promptsculptor \
 && mkdir -p /app/plugins /data /app/.cache \
 && chown -R promptsculptor:promptsculptor /app /data
WORKDIR /app
COPY --from=builder /src/target/release/promptsculptor /usr/local/bin/promptsculptor
COPY --from=builder --chown=promptsculptor:promptsculptor /src/plugins/*.wasm /app/plugins/
USER promptsculptor
ENV PROMPTSCULPTOR_ADDR=0.0.0.0:8080 \
    PROMPTSCULPTOR_DB=/data/promptsculptor.db \
    PROMPTSCULPTOR_PLUGINS_DIR=/app/plugins \
    PROMPTSCULPTOR_CACHE_DIR=/app/.cache/promptsculptor \
    PROMPTSCULPTOR_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# The binary checks itself (GET /readyz on PROMPTSCULPTOR_ADDR, exit 0 on 200):
# the slim image has no curl, and its /bin/sh (dash) has no /dev/tcp. Its own
# 2 s timeout fires before Docker's, so the reason lands in `docker inspect`.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["promptsculptor", "healthcheck"]
ENTRYPOINT ["promptsculptor"]
CMD ["serve"]
