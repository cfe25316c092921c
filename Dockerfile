# syntax=docker/dockerfile:1
# pi-server and pi-manage in a small, non-root runtime image.
#
#   docker build -t pi-server .
#   docker run --rm -p 5000:5000 -v /etc/privacyidea:/etc/privacyidea:ro \
#       -v pi-data:/var/lib/privacyidea pi-server
#
# See docs/operations.md ("Container image").

# ---- build: release binaries (SQLite bundled; libpq and libmariadb linked) ----
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libpq-dev default-libmysqlclient-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p pi-server -p pi-manage \
 && mkdir -p /out \
 && cp target/release/pi-server target/release/pi-manage /out/

# ---- runtime: the shared libraries the binaries link, nothing else ----
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libmariadb3 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 privacyidea \
 && useradd --system --uid 10001 --gid privacyidea --home-dir /var/lib/privacyidea \
        --no-create-home --shell /usr/sbin/nologin privacyidea \
 && install -d -o privacyidea -g privacyidea -m 0750 /var/lib/privacyidea \
 && install -d -m 0755 /etc/privacyidea
COPY --from=build /out/pi-server /out/pi-manage /usr/local/bin/
ENV PRIVACYIDEA_CONFIGFILE=/etc/privacyidea/pi.cfg
USER 10001:10001
WORKDIR /var/lib/privacyidea
VOLUME ["/var/lib/privacyidea"]
EXPOSE 5000
ENTRYPOINT ["/usr/local/bin/pi-server"]
CMD ["--listen", "0.0.0.0:5000"]
