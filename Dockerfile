# syntax=docker/dockerfile:1
# The gateway and the mock in one image: `docker build -t ratelab .`, then
#   docker run -p 4020:4020 -e UPSTREAM_API_KEY ratelab gateway --host 0.0.0.0 --upstream https://api.openai.com/v1
#   docker run -p 4010:4010 ratelab mock --host 0.0.0.0
# Node 20, as package.json's engines; the same steps are run by test/container-image.test.ts
# on an `npm pack`ed tarball (no container engine runs in CI).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# npm pack runs prepare and prepack: the CLI bundle (dist/cli.mjs) and the limiter's JavaScript.
RUN npm pack --pack-destination /tmp && mv /tmp/ratelab-*.tgz /tmp/ratelab.tgz

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /tmp/ratelab.tgz /tmp/ratelab.tgz
# npm never packs the lock file: it comes from the build stage, so production installs what CI tested.
COPY --from=build /src/package-lock.json /app/package-lock.json
RUN tar -xzf /tmp/ratelab.tgz --strip-components=1 -C /app \
  && rm /tmp/ratelab.tgz \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
USER node
EXPOSE 4020 4010
# The prebuilt bundle under plain node: no TypeScript loader, no build at start.
ENTRYPOINT ["node", "/app/dist/cli.mjs"]
CMD ["gateway", "--host", "0.0.0.0"]
