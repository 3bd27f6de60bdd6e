# FlashKV container image.
#   docker build -t flashkv .        (or: podman build --format docker -t flashkv .)
#   docker run -p 6379:6379 -p 8080:8080 flashkv     (8080: /healthz /readyz /metrics)
# Settings also come from FLASHKV_* variables (docker run -e FLASHKV_SHARDS=4 ...) or a config
# file (mount it and give the whole command: node dist/src/main.js /etc/flashkv.conf --bind 0.0.0.0).
# (see `node dist/src/main.js --help`); the health check PINGs port 6379, so keep that port.

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
# PING over plain TCP with Node itself: the image has no redis-cli, curl or nc.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const s=require('node:net').connect(6379,'127.0.0.1');let b='';const bad=()=>process.exit(1);s.setTimeout(2000,bad);s.on('error',bad);s.on('data',d=>{b+=d;if(b.includes('\\r\\n'))process.exit(b.startsWith('+PONG\\r\\n')?0:1)});s.write('PING\\r\\n')"]
CMD ["node", "dist/src/main.js", "--bind", "0.0.0.0", "--port", "6379", "--http-port", "8080"]
