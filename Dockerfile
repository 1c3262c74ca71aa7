# agentos server image: build once, run as many replicas as needed (docs/deploy.md).
# Not built in CI (no network there); `docker build -t agentos .` on a machine with registry access.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 ships prebuilt binaries for this platform; the toolchain is only a fallback.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY . .
# `prepare` builds dist/ during the install; dev dependencies go afterwards.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    AGENTOS_HOST=0.0.0.0 \
    AGENTOS_PORT=7777 \
    AGENTOS_CONFIG=/app/agentos.config.yaml
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
# The default config (the offline demo) unless one is mounted over it.
RUN node dist/agentos.mjs init /app >/dev/null && mkdir -p /app/.agentos && chown -R node:node /app
USER node
EXPOSE 7777
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.AGENTOS_PORT||7777)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM lets in-flight runs finish (server.shutdown_timeout_ms), then exits 0; keep stop_grace_period above it.
STOPSIGNAL SIGTERM
CMD ["node", "dist/agentos.mjs", "serve"]
