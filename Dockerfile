# FlashKV container image.
#   docker build -t flashkv .        (or: podman build --format docker -t flashkv .)
#   docker run -p 6379:6379 -p 8080:8080 flashkv     (8080: /healthz /readyz /metrics)
# Settings come from FLASHKV_* variables (docker run -e FLASHKV_SHARDS=4 -e FLASHKV_PORT=7000 ...)
# or a config file (mount it and give the command: node dist/src/main.js /etc/flashkv.conf), see
# `node dist/src/main.js --help`. The health check PINGs FLASHKV_PORT (AUTH with
# FLASHKV_REQUIREPASS when set): a port set only in a config file needs FLASHKV_PORT too.

ARG NODE_VERSION=24

# ---- build: compile TypeScript to dist/ ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src/ src/
COPY workers/ workers/
RUN npm run build

# ---- runtime: production dependencies and the compiled server only ----
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
# glibc would raise its mmap threshold after the first big free and keep later big request
# buffers in heaps it rarely returns: a fixed threshold lets RSS come down (bench/memory-flush.ts).
ENV MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist/src/ dist/src/
COPY --from=build /app/dist/workers/ dist/workers/

# SAVE writes /data/dump.rdb and a restart loads it: a volume, owned by the server's user.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
ENV FLASHKV_DIR=/data
# The container is reached from outside its loopback: protected mode off, as Redis's own image
# does; set FLASHKV_REQUIREPASS (or FLASHKV_PROTECTED_MODE=yes) to lock it down.
ENV FLASHKV_PROTECTED_MODE=no

# The files stay root-owned and read-only to the server; it runs as the image's `node` user (uid 1000).
USER node
EXPOSE 6379 8080
# The server shuts down cleanly on SIGTERM and exits 0.
STOPSIGNAL SIGTERM
# Where it listens, as variables rather than flags so that `-e FLASHKV_PORT=...` and friends
# apply (flags would win over them).
ENV FLASHKV_BIND=0.0.0.0 FLASHKV_PORT=6379 FLASHKV_HTTP_PORT=8080
# PING with Node itself (dist/src/healthcheck.js): the image has no redis-cli, curl or nc. It
# reads FLASHKV_PORT and FLASHKV_REQUIREPASS as the server does.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
CMD ["node", "dist/src/main.js"]
