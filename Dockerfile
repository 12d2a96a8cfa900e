# syntax=docker/dockerfile:1
#
# One image for every process of the project: the bridge (default CMD), the local Step Functions
# emulator, the example Node worker and the demo. docker-compose.yml picks the command per service.
#
#   docker build -t sfn-bullmq-bridge .
#   docker run --rm -p 3000:3000 -e REDIS_URL=redis://host.docker.internal:6379 \
#     -e AWS_REGION=us-east-1 -e BRIDGE_CONFIG=/config/bindings.yaml \
#     -v "$PWD/bindings.yaml:/config/bindings.yaml:ro" sfn-bullmq-bridge

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: full install (dev dependencies: nest CLI, webpack, TypeScript) and the bundles ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- deps: production node_modules only (the bundles keep node_modules external) ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
# Files stay owned by root and read-only for the process user: the app never writes to /app.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY examples/node-worker ./examples/node-worker
USER node
# 3000: bridge HTTP (/health, /health/ready, /metrics, /queues). 8083: the local emulator (sfn service).
EXPOSE 3000 8083
# The bridge drains parked GetActivityTask polls (up to 60 s) on SIGTERM; give it >= 75 s before SIGKILL
# (docker stop -t 75, compose stop_grace_period: 75s, ECS stopTimeout 120, k8s terminationGracePeriodSeconds 90).
STOPSIGNAL SIGTERM
# Liveness only (/health), never /health/ready: a Redis or AWS outage must not get the container killed.
# Only meaningful for the bridge; compose overrides it for the other services.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const r=require('http').get({host:'127.0.0.1',port:Number(process.env.PORT||3000),path:'/health',timeout:4000},s=>process.exit(s.statusCode===200?0:1));r.on('timeout',()=>r.destroy());r.on('error',()=>process.exit(1))"]
# The bridge's Node flags: libs/common/src/bridge-node-flags.ts says why.
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/apps/bridge/main.js"]
