# One image for both app processes; docker-compose.yml picks the entry point:
#   node --enable-source-maps dist/workers/main.js   |   node --enable-source-maps dist/api/main.js
# Both are built from the TypeScript sources (`npm run build`, scripts/build-apps.ts): plain JavaScript needs no tsx
# loader in every process (~50 MB each). tsx stays for the scripts (`npm run token`, `npm run audit:verify`).
# Pinned by digest: a rebuild gets the same base, whatever the tag points to since. The digest is node:20-slim's
# as Docker Hub served it (seen resolved by BuildKit, 2026-05). To take the base's security fixes, look it up again
# with `docker buildx imagetools inspect node:20-slim` and replace it; the tag stays only for readers.
FROM node:20-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0 AS build
# The chat page is built with the dev dependencies (Vite, React, Material UI) and only its static files ship.
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci && npm cache clean --force
COPY . .
RUN npm run build:web && npm run build

FROM node:20-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0
WORKDIR /app
# APP_ENV=production: the processes refuse to start without encryption keys, authentication and a real model.
ENV NODE_ENV=production APP_ENV=production
# A small young generation, as the launcher runs them (scripts/build-apps.ts): ~100 MB less RSS per worker. Each
# process also keeps its old generation within 1.3× of what is live, set in code (lib/heap-growth.ts).
ENV NODE_OPTIONS=--max-semi-space-size=2
# jemalloc: on glibc's malloc a worker's memory creeps up with the SDK core's native allocations (scripts/allocator.ts).
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/* \
  && ln -s "$(ls /usr/lib/*/libjemalloc.so.2 | head -1)" /usr/local/lib/libjemalloc.so.2
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
COPY . .
COPY --from=build /app/channels/web/page/dist channels/web/page/dist
COPY --from=build /app/dist dist
USER node
CMD ["node", "--enable-source-maps", "dist/api/main.js"]
