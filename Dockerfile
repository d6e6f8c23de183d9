# One image for both app processes; docker-compose.yml picks the entry point:
#   node --import tsx workers/main.ts   |   node --import tsx api/main.ts
# tsx runs the TypeScript sources as they are (no build step); it is a runtime dependency.
FROM node:20-slim
WORKDIR /app
# APP_ENV=production: the processes refuse to start without encryption keys, authentication and a real model.
ENV NODE_ENV=production APP_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
