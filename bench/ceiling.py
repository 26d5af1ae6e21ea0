"""The ceiling of bench/suite.py: a bare Starlette endpoint answering N bytes, no database.

Served by the same uvicorn command as the API (``bench.ceiling:app``), so a scenario's
ratio to it is the share of the framework-and-server maximum that the API reaches for a
response of that size. GET /bytes/{n} answers a JSON body of exactly n bytes.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MEDIA_TYPE = "application/vnd.api+json"


@lru_cache(maxsize=64)
def body_of(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes (at least 12)."""
    head, tail = b'{"data":"', b'"}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


async def sized(request: Request) -> Response:
    return Response(body_of(request.path_params["size"]), media_type=MEDIA_TYPE)


async def healthz(_: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(
    routes=[Route("/bytes/{size:int}", sized), Route("/healthz", healthz)],
)
