# CareLedger API image (used by docker-compose.yml). better-sqlite3 compiles in the build stage.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PORT=3000 CARELEDGER_DB=/data/careledger.sqlite
# the code belongs to root and is read-only for the process; only /data is the app's to write
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
# the unprivileged user of the node image (uid 1000); a volume mounted on /data starts owned by it
USER node
VOLUME ["/data"]
EXPOSE 3000
# The port opens only after the read models caught up with the log (minutes for millions of
# events; about 10,000 events/s): failures during the start period do not count, and the first
# success marks the container healthy at once. Raise it for larger logs (--health-start-period).
HEALTHCHECK --interval=10s --timeout=3s --retries=3 --start-period=10m CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# a 32 MiB young generation (V8's default is 16): the folds of dated and as-of reads allocate much and briefly; see bench/PERFORMANCE.md
CMD ["node", "--max-semi-space-size=32", "dist/apps/api/apps/api/src/main.js"]
