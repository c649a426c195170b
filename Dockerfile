# One image for the controller, the dashboard and (for docker-compose.yml's demo site) the agent;
# docker-compose.yml picks the command. A site agent alone: agent/Dockerfile.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY controller/package.json controller/
COPY agent/package.json agent/
COPY routeros-sim/package.json routeros-sim/
COPY dashboard/package.json dashboard/
RUN npm ci --no-audit --no-fund
COPY . .
# protocol, agent and controller run as compiled JavaScript (dist/); the dashboard as its build
RUN npm run build:js && npm run build -w dashboard

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY controller/package.json controller/
COPY agent/package.json agent/
COPY routeros-sim/package.json routeros-sim/
COPY dashboard/package.json dashboard/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/protocol/dist protocol/dist
COPY --from=build /app/controller/dist controller/dist
COPY --from=build /app/controller/bin controller/bin
COPY --from=build /app/agent/dist agent/dist
COPY --from=build /app/agent/bin agent/bin
COPY --from=build /app/dashboard/build dashboard/build
RUN mkdir -p /var/lib/mtandao /var/lib/mtandao-agent && chown node:node /var/lib/mtandao /var/lib/mtandao-agent
USER node
EXPOSE 8080 3000
CMD ["node", "controller/bin/mtandao-controller.mjs"]
