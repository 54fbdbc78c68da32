# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript and native modules in a build stage, ship a slim runtime
# with the offline speech packages from the same list CI uses. Node 22 LTS (the dev machine's Node 20
# still runs it; Node 20 reached end of life in April 2026).
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm 11 honours package.json `allowScripts` (onnxruntime-node's CUDA download stays off); the npm 10
# bundled with this image does not, so the download is switched off explicitly here.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
COPY scripts/system-packages.txt ./scripts/
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(grep -Ev '^\s*(#|$)' scripts/system-packages.txt) \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY migrations ./migrations
COPY public ./public
# The offline recogniser's decoder process (spawned by src/speech/pocketsphinx-pool.ts).
COPY scripts/pocketsphinx-decoder.py ./scripts/
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER node
CMD ["node", "dist/server.js"]
