# syntax=docker/dockerfile:1
# Toygres control plane. Build: docker build -t toygres .
# Run:  docker run -p 3000:3000 -e DATABASE_URL=postgres://... -e TOYGRES_API_TOKEN=... toygres

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The postinstall script (the dashboard build) skips without the dev dependencies.
COPY ui/build.mjs ./ui/build.mjs
# Production dependencies only; the `node` devDependency (Node 24 for bare
# machines) is not needed in an image that already is Node 24.
RUN npm ci --omit=dev && npm cache clean --force

# The dashboard: built with the dev dependencies, only its files are kept.
FROM node:24-slim AS ui
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY client ./client
COPY ui ./ui
RUN node ui/build.mjs

FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    TOYGRES_DATA_DIR=/var/lib/toygres
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY migrations ./migrations
COPY openapi ./openapi
COPY --from=ui /app/ui/dist ./ui/dist
RUN mkdir -p /var/lib/toygres && chown node:node /var/lib/toygres
# The image's `node` user, by number: Kubernetes can only check runAsNonRoot
# against a numeric user (deploy/ runs the pods as 1000 too).
USER 1000:1000
EXPOSE 3000
# No curl in slim images: ask Node itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node 24 runs the TypeScript sources directly (type stripping): no build step.
CMD ["node", "src/server.ts"]
