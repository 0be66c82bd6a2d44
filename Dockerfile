# Multi-stage build: compile in the Rust image, run in a slim Debian.
# SQLite, libpq and OpenSSL are compiled in (bundled/vendored crates).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY data data
COPY examples examples
COPY openapi openapi
RUN cargo build --release --locked --bin alliance-api

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/alliance alliance \
 && mkdir -p /var/lib/alliance && chown alliance /var/lib/alliance
COPY --from=build /src/target/release/alliance-api /usr/local/bin/alliance-api
USER alliance
WORKDIR /var/lib/alliance
ENV ALLIANCE_ADDR=0.0.0.0:8080 \
    DATABASE_URL=/var/lib/alliance/alliance.db \
    ALLIANCE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["alliance-api"]
CMD ["serve"]
