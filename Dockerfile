# One image for every Mtandao program; docker-compose.yml picks the command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY controller/package.json controller/
COPY agent/package.json agent/
COPY dashboard/package.json dashboard/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build -w dashboard

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY controller/package.json controller/
COPY agent/package.json agent/
COPY dashboard/package.json dashboard/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY protocol protocol
COPY controller controller
COPY agent agent
COPY --from=build /app/dashboard/build dashboard/build
RUN mkdir -p /var/lib/mtandao /var/lib/mtandao-agent && chown node:node /var/lib/mtandao /var/lib/mtandao-agent
USER node
EXPOSE 8080 3000
CMD ["node", "controller/bin/mtandao-controller.mjs"]
