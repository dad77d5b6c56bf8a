"""The browser's scripts and styles, served by the web itself from the npm packages installed at
setup (`npm ci` + `npm run build` in services/web), never from a CDN. Only the files listed here."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from icam_web.config import PACKAGE

# URL name -> path under the assets folder (services/web) or, for our own, under the package
VENDORED = {
    "icam.css": "build/icam.css",
    "htmx.min.js": "node_modules/htmx.org/dist/htmx.min.js",
    "chart.umd.min.js": "node_modules/chart.js/dist/chart.umd.min.js",
    "govuk-frontend.min.js": "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js",
}
OWN = {"icam.js": PACKAGE / "static" / "icam.js", "favicon.svg": PACKAGE / "static" / "favicon.svg"}
TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def files(assets_dir: Path) -> dict[str, Path]:
    return {name: assets_dir / rel for name, rel in VENDORED.items()} | OWN


def missing(assets_dir: Path) -> list[str]:
    """Vendored files not installed (run `npm ci && npm run build` in services/web)."""
    return [name for name, path in files(assets_dir).items() if not path.exists()]


def router(assets_dir: Path) -> APIRouter:
    known = files(assets_dir)
    routes = APIRouter()

    @routes.get("/static/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        path = known.get(name)
        if path is None or not path.exists():
            raise HTTPException(404)
        return FileResponse(
            path, media_type=TYPES[path.suffix], headers={"Cache-Control": "public, max-age=3600"}
        )

    return routes
