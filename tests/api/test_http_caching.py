"""ETag / If-None-Match and Cache-Control on every GET."""

from __future__ import annotations

from tests.conftest import ApiClient
from tests.support.seed import ALPHA_HOST, ALPHA_S1, Keys

BASE = f"/api/v3/{ALPHA_HOST}"


def test_catalog_get_has_etag_and_cache_control(client: ApiClient, keys: Keys) -> None:
    response = client.get(f"{BASE}/locations", headers={"X-Api-Key": keys.alpha_read})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, max-age=60"
    tag = response.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 34

    again = client.get(
        f"{BASE}/locations", headers={"X-Api-Key": keys.alpha_read, "If-None-Match": tag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag

    weak = client.get(
        f"{BASE}/locations",
        headers={"X-Api-Key": keys.alpha_read, "If-None-Match": f'"other", W/{tag}'},
    )
    assert weak.status_code == 304


def test_a_different_representation_is_served_in_full(client: ApiClient, keys: Keys) -> None:
    first = client.get(f"{BASE}/locations", headers={"X-Api-Key": keys.alpha_read})
    sparse = client.get(
        f"{BASE}/locations?fields[locations]=name",
        headers={"X-Api-Key": keys.alpha_read, "If-None-Match": first.headers["etag"]},
    )
    assert sparse.status_code == 200
    assert sparse.headers["etag"] != first.headers["etag"]


def test_availability_must_revalidate(client: ApiClient, keys: Keys) -> None:
    response = client.get(
        f"{BASE}/available-appointment-times?schedule_ids[]={ALPHA_S1}&from=2026-12-07"
        f"&to=2026-12-07",
        headers={"X-Api-Key": keys.alpha_read},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert "etag" in response.headers


def test_errors_are_not_cached(client: ApiClient, keys: Keys) -> None:
    response = client.get(f"{BASE}/locations/nope", headers={"X-Api-Key": keys.alpha_read})
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers
