"""Tenant isolation of booking: keys, schedules, tokens and visits stay within their site.

Winter Health (HOST) and Elsewhere (OTHER_HOST) each have a book key and a schedule.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.booking_http.helpers import (
    EMAIL,
    FIRST_NAME,
    book,
    counts,
    issue,
    ny,
    only_error,
    path,
    post_visit,
    request_token,
    times,
    visit_body,
)
from tests.booking_http.world import CHEN_PC, HOST, OTHER_HOST, OTHER_SCHEDULE, World
from tests.conftest import ApiClient

AT = ny(1, "11:00")


def anonymous_401(api: ApiClient, host: str) -> dict[str, Any]:
    """What a request without any key gets: every 401 must look exactly like it."""
    response = request_token(api, None, CHEN_PC, AT, host=host)
    assert only_error(response, 401)["code"] == "unauthorized"
    body: dict[str, Any] = response.json()
    return body


def test_visit_token_with_another_sites_key_is_401(api: ApiClient, world: World) -> None:
    response = request_token(api, world.other_book, CHEN_PC, AT)
    assert response.status_code == 401
    assert response.json() == anonymous_401(api, HOST)
    assert AT in times(api, world.read, CHEN_PC)  # nothing held

    response = request_token(api, world.book, OTHER_SCHEDULE, AT, host=OTHER_HOST)
    assert response.status_code == 401
    assert response.json() == anonymous_401(api, OTHER_HOST)
    assert AT in times(api, world.other_book, OTHER_SCHEDULE, host=OTHER_HOST)


def test_another_sites_schedule_is_404(api: ApiClient, world: World) -> None:
    response = request_token(api, world.book, OTHER_SCHEDULE, AT)
    assert OTHER_SCHEDULE in only_error(response, 404)["detail"]
    response = request_token(api, world.other_book, CHEN_PC, AT, host=OTHER_HOST)
    assert CHEN_PC in only_error(response, 404)["detail"]


def test_a_token_books_only_on_its_own_site(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    before = counts(session_factory)
    response = post_visit(api, token, visit_body(CHEN_PC, AT), host=OTHER_HOST)
    assert only_error(response, 401)["code"] == "wrong-site"
    assert counts(session_factory) == before
    # Still good at home.
    assert post_visit(api, token, visit_body(CHEN_PC, AT)).status_code == 201


def test_unknown_partner_hostname_is_404(api: ApiClient, world: World) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    response = post_visit(api, token, visit_body(CHEN_PC, AT), host="nobody.example.com")
    only_error(response, 404)
    response = request_token(api, world.book, CHEN_PC, AT, host="nobody.example.com")
    only_error(response, 404)


@pytest.mark.parametrize("tail", ["schedule", "location", "provider", "relationships/schedule"])
def test_a_visits_links_answer_only_on_its_site(api: ApiClient, world: World, tail: str) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    here = path(f"/visits/{visit['id']}/{tail}")
    there = path(f"/visits/{visit['id']}/{tail}", host=OTHER_HOST)
    assert api.get(here, params={"api_key": world.read}).status_code == 200

    # No key, or another site's key, here: the same 401.
    for params in ({}, {"api_key": world.other_book}):
        response = api.get(here, params=params)
        assert response.json() == anonymous_401(api, HOST)
    # This site's key on the other site: 401.
    response = api.get(there, params={"api_key": world.read})
    assert response.json() == anonymous_401(api, OTHER_HOST)
    # The other site's own key there: no such visit.
    response = api.get(there, params={"api_key": world.other_book})
    assert visit["id"] in only_error(response, 404)["detail"]
    for leaked in (CHEN_PC, "chattanooga", "dr-david-chen"):
        assert leaked not in response.text


def test_the_other_sites_visits_are_invisible_here(api: ApiClient, world: World) -> None:
    theirs = book(api, world.other_book, OTHER_SCHEDULE, AT, host=OTHER_HOST)
    ours = book(api, world.book, CHEN_PC, AT)
    # Confirmation numbers count per health system.
    assert theirs["attributes"]["confirmation-number"] == 1
    assert ours["attributes"]["confirmation-number"] == 1
    response = api.get(path(f"/visits/{theirs['id']}/schedule"), params={"api_key": world.read})
    only_error(response, 404)
    for leaked in (OTHER_SCHEDULE, "elsewhere", FIRST_NAME, EMAIL):
        assert leaked not in response.text


def test_holds_and_bookings_of_one_site_leave_the_other_alone(api: ApiClient, world: World) -> None:
    book(api, world.other_book, OTHER_SCHEDULE, AT, host=OTHER_HOST)
    issue(api, world.other_book, OTHER_SCHEDULE, ny(1, "11:15"), host=OTHER_HOST)
    offered = times(api, world.read, CHEN_PC)
    assert AT in offered
    assert ny(1, "11:15") in offered
