# syntax=docker/dockerfile:1

# ---- build ----
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY migration/ migration/
COPY bench/ bench/
COPY assets/ assets/
COPY src/ src/
# The cache mounts keep the registry and target/ between builds; the binary is copied out of
# target/ in the same step because the mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -m 0755 target/release/cachegraph /usr/local/bin/cachegraph

# ---- runtime ----
FROM debian:bookworm-slim
# ca-certificates: rediss:// and TLS to PostgreSQL; curl: the compose healthcheck.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 cachegraph \
    && useradd --system --uid 10001 --gid cachegraph --home-dir /app --shell /usr/sbin/nologin cachegraph \
    && mkdir -p /app/data \
    && chown -R cachegraph:cachegraph /app
COPY --from=builder /usr/local/bin/cachegraph /usr/local/bin/cachegraph
# The default DATABASE_URL (sqlite://data/app.db) is relative to this directory.
WORKDIR /app
USER cachegraph:cachegraph
ENV LISTEN_ADDR=0.0.0.0:8000
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/cachegraph"]
CMD ["serve"]
