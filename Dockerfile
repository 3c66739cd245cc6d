# syntax=docker/dockerfile:1
# imap_exporter container image. Build: docker build -t imap_exporter:0.1.0 .
# (deploy/README.md has the full command with the OCI label build args.)

# Base images are pinned by digest (a tag moves; a digest is the image that was reviewed). The tag
# each digest was taken for is the comment above it; bump both together.

# --- build stage: the full node:24 image has the toolchain npm ci may need for native modules.
# node:24-bookworm
FROM node:24-bookworm@sha256:934240a162082fd8b8a2f90cd5114446443f1eba1c5378f6687167ca405e6584 AS build
WORKDIR /app
# Lockfile first, so the dependency layer is cached until package*.json change. --ignore-scripts:
# the package's prepare script builds, and src/ is not here yet (nor do dependencies need scripts).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsc compiles src/ only: .dockerignore keeps test/ and bench/ out of the context.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- run stage: distroless rather than node:24-slim. It has no shell, no package manager and
# no curl, so there is less to patch and nothing for an intruder to use; its :nonroot tag runs as
# uid/gid 65532, which the Kubernetes manifests pin (runAsUser: 65532). The cost: no shell for
# `docker exec`, so the HEALTHCHECK below is the exporter's own `healthcheck` command.
# gcr.io/distroless/nodejs24-debian12:nonroot
FROM gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="imap_exporter" \
      org.opencontainers.image.description="Prometheus exporter that probes IMAP servers stage by stage: resolve, connect, TLS, greeting, STARTTLS, login, select, list, logout" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs24-debian12:nonroot"

# DNS lookups (getaddrinfo) and file reads share libuv's thread pool, 4 threads by default:
# a few targets whose resolver hangs would stall every other probe's lookup and password read.
# It must be set before Node starts (an ESM entry point has already started the pool).
# NODE_OPTIONS keeps the young generation at Node 20's size: Node 24 lets it grow to 128
# MiB, which at 10,000 jobs cost ~120 MiB more RSS and bought no fewer stalls and no less
# CPU per probe. A NODE_OPTIONS of one's own replaces it (the Kubernetes manifests set it).
ENV NODE_ENV=production UV_THREADPOOL_SIZE=16 NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
# Only what runs: the compiled sources and production dependencies. No tests, fixtures or keys.
COPY --from=build --chown=65532:65532 /app/package.json ./package.json
COPY --from=build --chown=65532:65532 /app/node_modules ./node_modules
COPY --from=build --chown=65532:65532 /app/dist/src ./dist/src

USER 65532:65532
EXPOSE 10043
# The config is not baked in: mount it at /etc/imap_exporter/config.yaml (a ConfigMap in Kubernetes).

# Docker/Compose only (Kubernetes uses the livenessProbe instead). `healthcheck` asks /-/healthy at
# the address the exporter was started with (it reads PID 1's --web.listen-address and
# --web.config.file), so `docker run IMAGE --web.listen-address=:9999` stays healthy, over TLS too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/dist/src/main.js", "healthcheck"]

# The binary is the entrypoint and CMD holds only flags, so `docker run IMAGE --log.level=debug`
# and Kubernetes `args:` replace the flags without repeating the script path.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/main.js"]
CMD ["--config.file=/etc/imap_exporter/config.yaml", "--web.listen-address=:10043"]
