# syntax=docker/dockerfile:1
# imap_exporter container image. Build: docker build -t imap_exporter:0.1.0 .
# (deploy/README.md has the full command with the OCI label build args.)

# --- build stage: the full node:20 image has the toolchain npm ci may need for native modules.
FROM node:20-bookworm AS build
WORKDIR /app
# Lockfile first, so the dependency layer is cached until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsc compiles src/ only: .dockerignore keeps test/ and bench/ out of the context.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- run stage: distroless rather than node:20-slim. It has no shell, no package manager and
# no curl, so there is less to patch and nothing for an intruder to use; its :nonroot tag runs as
# uid/gid 65532, which the Kubernetes manifests pin (runAsUser: 65532). The cost: no shell for
# `docker exec`, so the HEALTHCHECK below is written in Node. Pin the digest in production.
FROM gcr.io/distroless/nodejs20-debian12:nonroot

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
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs20-debian12:nonroot"

# DNS lookups (getaddrinfo) and file reads share libuv's thread pool, 4 threads by default:
# a few targets whose resolver hangs would stall every other probe's lookup and password read.
# It must be set before Node starts (an ESM entry point has already started the pool).
ENV NODE_ENV=production UV_THREADPOOL_SIZE=16
WORKDIR /app
# Only what runs: the compiled sources and production dependencies. No tests, fixtures or keys.
COPY --from=build --chown=65532:65532 /app/package.json ./package.json
COPY --from=build --chown=65532:65532 /app/node_modules ./node_modules
COPY --from=build --chown=65532:65532 /app/dist/src ./dist/src

USER 65532:65532
EXPOSE 10043
# The config is not baked in: mount it at /etc/imap_exporter/config.yaml (a ConfigMap in Kubernetes).

# Docker/Compose only (Kubernetes uses the livenessProbe instead). Exit 0 only on HTTP 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "require('http').get('http://127.0.0.1:10043/-/healthy', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).setTimeout(4000, () => process.exit(1))"]

# The binary is the entrypoint and CMD holds only flags, so `docker run IMAGE --log.level=debug`
# and Kubernetes `args:` replace the flags without repeating the script path.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/main.js"]
CMD ["--config.file=/etc/imap_exporter/config.yaml", "--web.listen-address=:10043"]
