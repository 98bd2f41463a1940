# Builds the server and the dashboard; runs as an unprivileged user.
FROM rust:1-bookworm AS build
RUN rustup target add wasm32-unknown-unknown
WORKDIR /src
COPY . .
RUN scripts/build-web.sh && cargo build --release --bin callbroker

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app callbroker
WORKDIR /app
COPY --from=build /src/target/release/callbroker /usr/local/bin/callbroker
COPY --from=build /src/web/dist /app/web/dist
USER callbroker
ENV CALLBROKER_WEB_DIR=/app/web/dist CALLBROKER_DATA_DIR=/app/data
EXPOSE 8080
CMD ["callbroker"]
