"""GET /api/v3/openapi.json (also /v3/openapi.json) and the documentation page /api/v3/docs.

The page is Swagger UI from the ``swagger-ui-bundle-v2`` package, served by this server: it
loads nothing from another host (no CDN), so it works offline and behind strict firewalls.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.resources.abc import Traversable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route as HttpRoute
from swagger_ui_bundle import swagger_ui_path

from inquicker.jsonapi.errors import not_found
from inquicker.jsonapi.openapi import build_document
from inquicker.jsonapi.resource import Registry
from inquicker.jsonapi.routing import Route

DOCS_PATH = "/api/v3/docs"
# The files of the package the page uses, with their media types; nothing else is served.
ASSETS: dict[str, str] = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui.css.map": "application/json",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
# Assets change only with the package version, which is in no URL: a day, then revalidate.
ASSET_CACHE = "public, max-age=86400"

PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>InQuicker API v3</title>
<link rel="stylesheet" href="{DOCS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="{DOCS_PATH}/init.js"></script>
</body>
</html>
"""

# A file, not an inline script, so a Content-Security-Policy without 'unsafe-inline' holds.
# validatorUrl null: Swagger UI would otherwise send the document to an outside validator.
INIT_JS = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v3/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
};
"""


def _asset(name: str) -> Traversable:
    root: Traversable = swagger_ui_path
    return root / name


def docs_routes(registry: Registry, routes: Iterable[Route[object]]) -> list[BaseRoute]:
    """The document of the route table ``routes`` under both prefixes, the page and its
    assets."""
    operations = [op for r in routes for op in r.operations]

    @cache
    def document(prefix: str) -> bytes:
        # The prefix the document was asked under is the first server, so relative calls
        # from the page (or a client) stay on the same spelling.
        servers = (prefix, *(p for p in ("/api/v3", "/v3") if p != prefix))
        doc = build_document(registry, operations, servers=servers)
        return orjson.dumps(doc)

    def openapi_json(request: Request) -> Response:
        prefix = "/api/v3" if request.url.path.startswith("/api/") else "/v3"
        return Response(
            document(prefix),
            media_type="application/json",
            headers={"Cache-Control": "no-cache"},
        )

    def page(_: Request) -> Response:
        return Response(PAGE, media_type="text/html; charset=utf-8")

    def init_js(_: Request) -> Response:
        return Response(INIT_JS, media_type="text/javascript; charset=utf-8")

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = ASSETS.get(name)
        if media_type is None:
            raise not_found("No such file of the documentation page.")
        return Response(
            _asset(name).read_bytes(),
            media_type=media_type,
            headers={"Cache-Control": ASSET_CACHE},
        )

    read = ["GET", "HEAD"]
    return [
        HttpRoute("/api/v3/openapi.json", openapi_json, methods=read),
        HttpRoute("/v3/openapi.json", openapi_json, methods=read),
        HttpRoute(DOCS_PATH, page, methods=read),
        HttpRoute(f"{DOCS_PATH}/init.js", init_js, methods=read),
        HttpRoute(DOCS_PATH + "/{name}", asset, methods=read),
    ]
