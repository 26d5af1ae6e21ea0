"""A booking form built only from GET /visit-settings is accepted by POST /visits (issue 11).

For every schedule of the Winter Health demo: hypothesis fills a form using nothing but the
reported validations (presence -> a value; birthdate, email, phone, inclusion, format,
length, numericality and the when-* conditions respected), and POST /visits accepts it;
leaving out any field a reported presence rule requires is refused with a 422 pointing
at it. The clock is 2026-12-01T14:00Z.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inquicker.bundle import demo
from tests.booking_http.helpers import attribute, issue, path, post_visit, problems, times
from tests.booking_http.world import World
from tests.conftest import ApiClient

DEMO = json.loads((Path(demo.__file__).parent / "data" / "winter-health.json").read_text())
SCHEDULES = [s["id"] for s in DEMO["schedules"] if s["active"]]


def reported(api: ApiClient, key: str, schedule: str) -> list[dict[str, Any]]:
    """The validations visit-settings reports for a schedule."""
    response = api.get(path(f"/visit-settings/{schedule}"), params={"api_key": key})
    assert response.status_code == 200, response.text
    return [o["attributes"] for o in response.json()["data"] if o["type"] == "validation"]


def rules_for(validations: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [v for v in validations if name in v["attributes"]]


def _max_length(rules: list[dict[str, Any]]) -> int:
    limits = [r["maximum"] for r in rules if r["kind"] == "length" and "maximum" in r]
    return min([*limits, 60])


@st.composite
def value_for(draw: st.DrawFn, name: str, validations: list[dict[str, Any]], day: date) -> Any:
    """A value for ``name`` that every reported rule on it accepts."""
    rules = rules_for(validations, name)
    kinds = {r["kind"] for r in rules}
    limit = _max_length(rules)
    for rule in rules:
        if rule["kind"] == "inclusion":
            return draw(st.sampled_from(rule["in"]))
    if "birthdate" in kinds:
        [rule] = [r for r in rules if r["kind"] == "birthdate"]
        youngest = rule.get("minimum-age", 0)
        oldest = min(rule.get("maximum-age", 100), 100)
        age = draw(st.integers(max(youngest, 1), max(oldest, 1)))
        born = day - timedelta(days=365 * age + 200)
        return born.isoformat()
    if "email" in kinds:
        local = draw(st.from_regex(r"[a-z][a-z0-9.]{0,15}[a-z0-9]", fullmatch=True))
        return f"{local}@{draw(st.sampled_from(['example.org', 'mail.com', 'clinic.co.uk']))}"
    if "phone" in kinds:
        return draw(st.from_regex(r"\(?[2-9][0-9]{2}\)? ?[2-9][0-9]{2}-[0-9]{4}", fullmatch=True))
    if "numericality" in kinds:
        [rule] = [r for r in rules if r["kind"] == "numericality"]
        return draw(st.integers(int(rule["greater-than"]) + 1, int(rule["less-than"]) - 1))
    for rule in rules:
        if rule["kind"] == "format":
            return draw(
                st.from_regex(rule["with"], fullmatch=True).filter(lambda t: len(t) <= limit)
            )
    return draw(
        st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=limit)
    )


def required(validations: list[dict[str, Any]], form: dict[str, Any], day: date) -> list[str]:
    """Fields a presence rule requires of this form (conditions read from the form)."""
    out: list[str] = []
    for rule in validations:
        if rule["kind"] != "presence" or not _condition_holds(rule, form, day):
            continue
        out += [a for a in rule["attributes"] if a not in out]
    return out


def _condition_holds(rule: dict[str, Any], form: dict[str, Any], day: date) -> bool:
    other = rule.get("when-attribute")
    if other is None:
        return True
    if "when-age-at-most" in rule:
        if other not in form:
            return False
        born = date.fromisoformat(form[other])
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        return bool(age <= rule["when-age-at-most"])
    return form.get(other) in rule["when-in"]


@st.composite
def forms(draw: st.DrawFn, validations: list[dict[str, Any]], at: str) -> dict[str, Any]:
    form: dict[str, Any] = {"appointment-at": at}
    day = date.fromisoformat(at[:10])
    # Required fields until none is missing: a value may switch on a conditional rule.
    while missing := [n for n in required(validations, form, day) if n not in form]:
        for name in missing:
            form[name] = draw(value_for(name, validations, day))
    return form


def body(schedule: str, form: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": {
            "type": "visits",
            "attributes": form,
            "relationships": {"schedule": {"data": {"type": "schedules", "id": schedule}}},
        }
    }


# One test over every schedule, not one per schedule: loading the demo dominates the cost.
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_form_built_from_visit_settings_is_accepted(
    api: ApiClient, world: World, data: st.DataObject
) -> None:
    for schedule in SCHEDULES:
        check_schedule(api, world, schedule, data)


def check_schedule(api: ApiClient, world: World, schedule: str, data: st.DataObject) -> None:
    validations = reported(api, world.read, schedule)
    # Each example books its own time, the first still offered (earlier examples took
    # theirs); not drawn, since what is offered changes between examples.
    at = times(api, world.read, schedule)[0]
    form = data.draw(forms(validations, at), label=f"form for {schedule}")
    token = issue(api, world.book, schedule, at)

    # Leaving out any field a reported rule requires is refused, pointing at it.
    for name in required(validations, form, date.fromisoformat(at[:10])):
        if name == "appointment-at":
            continue  # the token names the instant; the parser reports it missing itself
        partial = {k: v for k, v in form.items() if k != name}
        response = post_visit(api, token, body(schedule, partial))
        assert (attribute(name), "blank") in problems(response), (schedule, name)

    response = post_visit(api, token, body(schedule, form))
    assert response.status_code == 201, (schedule, form, response.text)


def test_the_demo_reports_the_full_address_its_feature_requires(
    api: ApiClient, world: World
) -> None:
    validations = reported(api, world.read, SCHEDULES[0])
    presence = [v["attributes"] for v in validations if v["kind"] == "presence"]
    assert ["address", "city", "state", "zip"] in presence
    assert ["patient-complaint"] in presence


def test_a_reserved_email_domain_is_refused_without_using_the_token(
    api: ApiClient, world: World
) -> None:
    schedule = SCHEDULES[0]
    at = times(api, world.read, schedule)[0]
    token = issue(api, world.book, schedule, at)
    form = {
        "appointment-at": at,
        "appointment-type": "annual-physical",
        "first-name": "Pat",
        "last-name": "Lee",
        "birthdate": "1980-02-03",
        "gender": "male",
        "new-patient": "no",
        "phone-number": "423-555-0100",
        "address": "1 Main St",
        "city": "Chattanooga",
        "state": "TN",
        "zip": "37403",
        "patient-complaint": "Cough",
    }
    for email in ("pat@clinic.test", "pat@x.example", "pat@host.invalid", "pat@LOCALHOST"):
        response = post_visit(api, token, body(schedule, {**form, "email": email}))
        assert problems(response) == {(attribute("email"), "invalid-email")}, email
    # example.org is a real (reserved second-level) domain name, not a reserved top level.
    response = post_visit(api, token, body(schedule, {**form, "email": "pat@example.org"}))
    assert response.status_code == 201, response.text
