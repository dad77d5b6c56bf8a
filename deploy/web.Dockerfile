# The web workspace: docker build -f deploy/web.Dockerfile -t icam-web .
# Its browser assets are installed from the lock file and built here (npm ci + Sass), then served
# by the app itself from /src/services/web (ICAM_WEB_ASSETS); nothing is loaded from a CDN.
FROM node:20-slim AS assets
WORKDIR /web
COPY services/web/package.json services/web/package-lock.json services/web/.npmrc ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY services/web/styles ./styles
RUN npm run build && npm prune --omit=dev

FROM python:3.11-slim AS build
RUN pip install --no-cache-dir "uv>=0.9,<1"
WORKDIR /src
COPY . .
RUN uv sync --frozen --no-dev --package icam-web --no-editable && rm -rf /root/.cache

FROM python:3.11-slim
ENV PATH="/src/.venv/bin:$PATH" LOG_FORMAT=json PYTHONUNBUFFERED=1 ICAM_WEB_ASSETS=/src/services/web
RUN useradd --system --uid 10001 icam
COPY --from=build /src/.venv /src/.venv
COPY --from=assets /web/node_modules /src/services/web/node_modules
COPY --from=assets /web/build /src/services/web/build
USER icam
EXPOSE 8080
CMD ["uvicorn", "--factory", "icam_web.app:create_app", "--host", "0.0.0.0", "--port", "8080", "--no-access-log", "--proxy-headers"]
