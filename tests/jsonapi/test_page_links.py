"""Pagination links: encoding the kept parameters once gives what ``urlencode`` of every
parameter of each link gave (the links are part of cached documents and their ETags)."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from inquicker.jsonapi.document import page_links
from inquicker.jsonapi.query import Query

URL = "http://testserver/api/v3/alpha.example.com/providers"
NAMES = ["page[number]", "page[size]", "page[offset]", "page[limit]", "include", "_", "f[x]"]


def _reference(
    request_url: str, params: list[tuple[str, str]], query: Query, total: int
) -> dict[str, str]:
    """The links as built before: ``urlencode`` of all the parameters, per link."""

    def link(kept: list[tuple[str, str]], *page: tuple[str, int]) -> str:
        return f"{request_url}?{urlencode([*kept, *((k, str(v)) for k, v in page)])}"

    size = query.page_size
    last = max(1, -(-total // size))
    if query.page_offset is not None:
        kept = [(k, v) for k, v in params if k not in ("page[offset]", "page[limit]")]
        last_offset = (last - 1) * size

        def at(offset: int) -> str:
            return link(kept, ("page[offset]", offset), ("page[limit]", size))

        offset = query.page_offset
        links = {"first": at(0), "last": at(last_offset)}
        if offset > 0:
            links["prev"] = at(min(max(offset - size, 0), last_offset))
        if offset + size < total:
            links["next"] = at(offset + size)
        return links
    kept = [(k, v) for k, v in params if k not in ("page[number]", "page[size]")]
    number = query.page_number
    links = {
        "first": link(kept, ("page[number]", 1), ("page[size]", size)),
        "last": link(kept, ("page[number]", last), ("page[size]", size)),
    }
    if number > 1:
        links["prev"] = link(kept, ("page[number]", min(number - 1, last)), ("page[size]", size))
    if number < last:
        links["next"] = link(kept, ("page[number]", number + 1), ("page[size]", size))
    return links


@given(
    params=st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=5), st.text(max_size=8))),
    number=st.integers(1, 30),
    size=st.integers(1, 100),
    offset=st.none() | st.integers(0, 500),
    total=st.integers(0, 2_000),
)
def test_page_links_are_those_of_urlencode(
    params: list[tuple[str, str]], number: int, size: int, offset: int | None, total: int
) -> None:
    query = Query(page_number=number, page_size=size, page_offset=offset)
    assert page_links(URL, params, query, total) == _reference(URL, params, query, total)


def test_page_links_keep_other_parameters_in_order() -> None:
    params = [("filter[near]", "[36.16,-86.78]"), ("page[size]", "50"), ("include", "schedules")]
    links = page_links(URL, params, Query(page_size=50), 120)
    assert links == {
        "first": f"{URL}?filter%5Bnear%5D=%5B36.16%2C-86.78%5D&include=schedules"
        "&page%5Bnumber%5D=1&page%5Bsize%5D=50",
        "last": f"{URL}?filter%5Bnear%5D=%5B36.16%2C-86.78%5D&include=schedules"
        "&page%5Bnumber%5D=3&page%5Bsize%5D=50",
        "next": f"{URL}?filter%5Bnear%5D=%5B36.16%2C-86.78%5D&include=schedules"
        "&page%5Bnumber%5D=2&page%5Bsize%5D=50",
    }
