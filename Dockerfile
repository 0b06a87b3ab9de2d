# syntax=docker/dockerfile:1
#
# kafka-producer: the HTTP -> Apache Kafka service, as a small non-root image.
#
#   docker build -t kafka-producer:latest .      (or podman build; scripts/image builds and checks it)
#   docker run --rm -p 18081:8080 -e KAFKA_BOOTSTRAP_SERVERS=kafka:9092 kafka-producer:latest
#
# Stage 1 builds the release binary on Debian bookworm (glibc 2.36, the same as the runtime
# image). librdkafka and OpenSSL are compiled from source by the rdkafka crate (features
# "ssl-vendored", "zstd"), which needs gcc, g++ (librdkafka's configure asks for a C++
# compiler), make and perl: all in rust:*-bookworm, so there is no apt-get step. The one system library the binary links dynamically besides glibc
# and libgcc_s is zlib (rdkafka's default "libz" feature finds the system libz through
# pkg-config); it is copied into the runtime image below.
ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src

COPY Cargo.toml Cargo.lock ./
# The test-only crates the manifest names as dev-dependencies: Cargo reads them to resolve the
# lock file, and never builds them here.
COPY tests/support tests/support
COPY fuzz/checks fuzz/checks
COPY src ./src
# Cache mounts keep the crates and the compiled dependencies between builds (rdkafka and
# OpenSSL take minutes; with a warm target folder a source change rebuilds only this crate).
# The binary is copied out of the cache mount, which is not part of the image. touch: COPY
# keeps the context's mtimes, which may be older than the cached build of this crate.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin kafka-producer \
    && install -D -m 0755 target/release/kafka-producer /out/usr/local/bin/kafka-producer

# Stage the shared libraries the runtime image lacks, at the same multiarch path, and fail the
# build if the binary ever needs one that is neither here nor in distroless/cc (glibc,
# libgcc_s). Works for amd64 and arm64 alike.
RUN set -eu \
    && ldd /out/usr/local/bin/kafka-producer > /tmp/ldd.txt \
    && cat /tmp/ldd.txt \
    && if grep -vE 'linux-vdso|ld-linux|libc\.so|libm\.so|libgcc_s\.so|libz\.so' /tmp/ldd.txt; then \
         echo "unexpected shared library dependency (above): add it to /out or to the image" >&2; \
         exit 1; \
       fi \
    && libz="$(awk '$1 == "libz.so.1" { print $3 }' /tmp/ldd.txt)" \
    && if [ -n "$libz" ]; then \
         install -D -m 0644 "$(readlink -f "$libz")" "/out/usr/lib/$(gcc -print-multiarch)/libz.so.1"; \
       fi

# Stage 2: distroless "cc" = glibc + libgcc_s + CA certificates + tzdata, no shell, no package
# manager; the ":nonroot" tag runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime

LABEL org.opencontainers.image.title="kafka-producer" \
      org.opencontainers.image.description="HTTP to Apache Kafka producer (plain and idempotent, sync and async)" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=build /out/ /

# Configuration is environment only (see README "Configuration"):
#   KAFKA_BOOTSTRAP_SERVERS   host:port,...  (the .NET configuration name Kafka__BootstrapServers works too)
#   KAFKA_<PROPERTY>          any librdkafka property, e.g. KAFKA_SECURITY_PROTOCOL=SASL_SSL;
#                             with the statically linked OpenSSL, librdkafka probes the usual CA
#                             paths (distroless ships /etc/ssl/certs/ca-certificates.crt)
#   APP_ENV=production        no embedded in-memory cluster: a missing bootstrap setting stops the
#                             start-up; JSON logs (LOG_FORMAT=text to override)
#   SHUTDOWN_TIMEOUT_MS       SIGTERM drains requests and flushes queued records within this time
ENV PORT=8080 \
    APP_ENV=production

# appsettings.json / appsettings.<env>.json are read from the working directory if present.
WORKDIR /app
USER 65532:65532
EXPOSE 8080

# No HEALTHCHECK: distroless has no shell or curl. Probe over HTTP from the orchestrator instead:
#   GET /health        liveness, never touches Kafka
#   GET /health/ready  readiness, 200 while the cluster answers a metadata request, else 503
# (k8s/deployment.yaml, k8s/knative/service.yaml). The binary handles SIGTERM itself (exec form,
# PID 1): it stops accepting, finishes requests, flushes queued records, then exits.
ENTRYPOINT ["/usr/local/bin/kafka-producer"]
