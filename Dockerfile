# One image for both app processes; docker-compose.yml picks the entry point:
#   node --import tsx workers/main.ts   |   node --import tsx api/main.ts
# tsx runs the TypeScript sources as they are (no build step); it is a runtime dependency.
# Pinned by digest: a rebuild gets the same base, whatever the tag points to since. The digest is node:20-slim's
# as Docker Hub served it (seen resolved by BuildKit, 2026-05). To take the base's security fixes, look it up again
# with `docker buildx imagetools inspect node:20-slim` and replace it; the tag stays only for readers.
FROM node:20-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0 AS web-page
# The chat page is built with the dev dependencies (Vite, React, Material UI) and only its static files ship.
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci && npm cache clean --force
COPY . .
RUN npm run build:web

FROM node:20-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0
WORKDIR /app
# APP_ENV=production: the processes refuse to start without encryption keys, authentication and a real model.
ENV NODE_ENV=production APP_ENV=production
# jemalloc: on glibc's malloc a worker's memory creeps up with the SDK core's native allocations (scripts/allocator.ts).
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/* \
  && ln -s "$(ls /usr/lib/*/libjemalloc.so.2 | head -1)" /usr/local/lib/libjemalloc.so.2
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
COPY . .
COPY --from=web-page /app/channels/web/page/dist channels/web/page/dist
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
