"""GET /visit-settings/{schedule_id} over HTTP, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.app import create_app
from inquicker.catalog.schedule_models import Schedule
from inquicker.settings import Settings
from inquicker.tenancy.models import HealthSystem
from tests.api.helpers import ALPHA_BASE, JSONAPI, key_header, only_error, url
from tests.conftest import ApiClient
from tests.support.seed import ALPHA_S1, ALPHA_S2, ALPHA_S3_INACTIVE, BETA_HOST, BETA_S1, Keys

ALPHA_DEFAULTS: dict[str, Any] = {
    "validations": [
        {"kind": "presence", "attributes": ["first-name", "last-name"]},
        {"kind": "format", "attributes": ["zip"], "with": r"\A\d{5}\z", "allow_blank": True},
    ],
    "enabled_fields": ["zip", "phone-number"],
    "patient_instructions": "Arrive 15 minutes early.",
}
S1_OVERRIDES: dict[str, Any] = {
    "validations": [{"kind": "length", "attributes": ["comments"], "maximum": 500}],
    "patient_instructions": "Bring your insurance card.",
}


@pytest.fixture
def vs_client(engine: Engine, settings: Settings) -> Iterator[ApiClient]:
    """The app, with visit-settings in its route table."""
    app = create_app(settings, engine=engine)
    with ApiClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def seeded(keys: Keys, session_factory: sessionmaker[Session]) -> Keys:
    """The two tenants, with alpha defaults and one override on alpha's first schedule."""
    with session_factory() as session, session.begin():
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.slug == "alpha-health")
            .values(visit_settings=ALPHA_DEFAULTS)
        )
        session.execute(
            update(Schedule).where(Schedule.slug == ALPHA_S1).values(visit_settings=S1_OVERRIDES)
        )
        beta_pk = session.scalar(select(HealthSystem.pk).where(HealthSystem.slug == "beta-health"))
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.pk == beta_pk)
            .values(visit_settings={"screening_questions_url": "https://beta.example/screen"})
        )
    return keys


TEXT_1000 = [
    "address",
    "address-2",
    "appointment-type",
    "caregiver-name",
    "city",
    "email",
    "first-name",
    "gender",
    "insurance-group-number",
    "insurance-member-number",
    "insurance-plan-full-address",
    "insurance-plan-name",
    "insurance-plan-permalink",
    "insurance-plan-phone-number",
    "last-name",
    "last-test-date",
    "last-test-location",
    "middle-initial",
    "phone-number",
    "primary-care-physician",
    "referring-provider-name",
    "remote-uid",
    "state",
    "translator-language",
    "zip",
]
REQUIRED = [
    "appointment-at",
    "birthdate",
    "email",
    "first-name",
    "last-name",
    "gender",
    "new-patient",
    "phone-number",
]
YES_NO = [
    "has-physician",
    "new-patient",
    "optin",
    "pregnant",
    "requires-standing-assistance",
    "requires-translator",
]


def builtin_objects(schedule_id: str, types: list[str], plans: list[str]) -> list[dict[str, Any]]:
    """The built-in rules every schedule reports (spec section 7), for these types (in
    priority order) and plans."""

    def v(local: str, **attributes: Any) -> dict[str, Any]:
        return {
            "type": "validation",
            "id": f"{schedule_id}-validation-{local}",
            "attributes": attributes,
        }

    plan_rule = (
        v(
            "inclusion-insurance-plan-permalink",
            kind="inclusion",
            attributes=["insurance-plan-permalink"],
            **{"in": plans},
        )
        if plans
        else v(
            "length-insurance-plan-permalink",
            kind="length",
            attributes=["insurance-plan-permalink"],
            maximum=0,
        )
    )
    return [
        v("presence-" + "+".join(REQUIRED), kind="presence", attributes=REQUIRED),
        v("birthdate-birthdate", kind="birthdate", attributes=["birthdate"]),
        v("email-email", kind="email", attributes=["email"]),
        v("phone-phone-number", kind="phone", attributes=["phone-number"]),
        v(
            "inclusion-gender",
            kind="inclusion",
            attributes=["gender"],
            **{"in": ["female", "male"]},
        ),
        v("presence-appointment-type", kind="presence", attributes=["appointment-type"]),
        v(
            "inclusion-appointment-type",
            kind="inclusion",
            attributes=["appointment-type"],
            **{"in": types},
        ),
        v(
            "presence-caregiver-name",
            kind="presence",
            attributes=["caregiver-name"],
            **{"when-attribute": "birthdate", "when-age-at-most": 13},
        ),
        v(
            "presence-weeks-pregnant",
            kind="presence",
            attributes=["weeks-pregnant"],
            **{"when-attribute": "pregnant", "when-in": [True]},
        ),
        v(
            "numericality-weeks-pregnant",
            kind="numericality",
            attributes=["weeks-pregnant"],
            **{"only-integer": True, "greater-than": -1, "less-than": 46},
        ),
        plan_rule,
        *(
            v(f"inclusion-{name}", kind="inclusion", attributes=[name], **{"in": [True, False]})
            for name in YES_NO
        ),
        v("length-" + "+".join(TEXT_1000), kind="length", attributes=TEXT_1000, maximum=1000),
        v(
            "length-referer+url+user-agent",
            kind="length",
            attributes=["referer", "url", "user-agent"],
            maximum=4000,
        ),
        v(
            "length-comments+patient-complaint",
            kind="length",
            attributes=["comments", "patient-complaint"],
            maximum=5000,
        ),
    ]


S1_BUILTIN = (["sick-visit", "annual-physical"], ["aetna-ppo", "cigna-hmo"])


def expected_objects(schedule_id: str, *, override: bool) -> list[dict[str, Any]]:
    builtin = (
        builtin_objects(schedule_id, *S1_BUILTIN)
        if override
        else builtin_objects(schedule_id, ["consult"], ["aetna-ppo"])
    )
    objects: list[dict[str, Any]] = [
        *builtin,
        {
            "type": "validation",
            "id": f"{schedule_id}-validation-presence-first-name+last-name",
            "attributes": {"kind": "presence", "attributes": ["first-name", "last-name"]},
        },
        {
            "type": "validation",
            "id": f"{schedule_id}-validation-format-zip",
            "attributes": {
                "kind": "format",
                "attributes": ["zip"],
                "allow-blank": True,
                "with": r"\A\d{5}\z",
            },
        },
    ]
    if override:
        objects.append(
            {
                "type": "validation",
                "id": f"{schedule_id}-validation-length-comments",
                "attributes": {"kind": "length", "attributes": ["comments"], "maximum": 500},
            }
        )
    objects += [
        {
            "type": "enabled-fields",
            "id": f"{schedule_id}-enabled-fields",
            "attributes": {"fields": ["zip", "phone-number"]},
        },
        {
            "type": "patient-instructions",
            "id": f"{schedule_id}-patient-instructions",
            "attributes": {
                "text": "Bring your insurance card." if override else "Arrive 15 minutes early."
            },
        },
    ]
    return objects


def test_schedule_settings_merge_health_system_defaults(vs_client: ApiClient, seeded: Keys) -> None:
    response = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSONAPI
    assert response.json() == {
        "data": expected_objects(ALPHA_S1, override=True),
        "links": {"self": f"{ALPHA_BASE}/visit-settings/{ALPHA_S1}"},
    }


def test_schedule_without_overrides_gets_the_defaults(vs_client: ApiClient, seeded: Keys) -> None:
    response = vs_client.get(
        url(f"/visit-settings/{ALPHA_S2}"), headers=key_header(seeded.alpha_read)
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == expected_objects(ALPHA_S2, override=False)


def test_ids_are_stable_across_requests(vs_client: ApiClient, seeded: Keys) -> None:
    first = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read)).json()
    second = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read)).json()
    assert [o["id"] for o in first["data"]] == [o["id"] for o in second["data"]]


def test_other_tenant_sees_its_own_settings(vs_client: ApiClient, seeded: Keys) -> None:
    response = vs_client.get(url(f"/visit-settings/{BETA_S1}", seeded.beta_read, host=BETA_HOST))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == [
        *builtin_objects(BETA_S1, ["beta-visit"], ["beta-plan"]),
        {
            "type": "screening-questions",
            "id": f"{BETA_S1}-screening-questions",
            "attributes": {"url": "https://beta.example/screen"},
        },
    ]


def test_empty_settings_report_the_builtin_rules_only(vs_client: ApiClient, keys: Keys) -> None:
    response = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", keys.alpha_read))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == builtin_objects(ALPHA_S1, *S1_BUILTIN)


def test_underscore_path_and_v3_prefix_are_aliases(vs_client: ApiClient, seeded: Keys) -> None:
    for path in (
        url(f"/visit_settings/{ALPHA_S1}", seeded.alpha_read),
        url(f"/visit-settings/{ALPHA_S1}/", seeded.alpha_read, prefix="/v3"),
    ):
        response = vs_client.get(path)
        assert response.status_code == 200, response.text
        assert response.json()["data"] == expected_objects(ALPHA_S1, override=True)


@pytest.mark.parametrize(
    "schedule_id",
    [BETA_S1, ALPHA_S3_INACTIVE, "00000000-0000-4000-8000-000000000000", "not-a-uuid"],
    ids=["other-tenant", "inactive", "unknown", "garbage"],
)
def test_schedules_the_site_cannot_book_are_not_found(
    vs_client: ApiClient, seeded: Keys, schedule_id: str
) -> None:
    response = vs_client.get(url(f"/visit-settings/{schedule_id}", seeded.alpha_read))
    error = only_error(response, 404)
    assert error["code"] == "not-found"
    assert "beta.example" not in response.text


def test_missing_or_extra_segments_are_not_found(vs_client: ApiClient, seeded: Keys) -> None:
    only_error(vs_client.get(url("/visit-settings", seeded.alpha_read)), 404)
    only_error(vs_client.get(url(f"/visit-settings/{ALPHA_S1}/x", seeded.alpha_read)), 404)


def test_a_key_is_required(vs_client: ApiClient, seeded: Keys) -> None:
    assert only_error(vs_client.get(url(f"/visit-settings/{ALPHA_S1}")), 401)
    other_site = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", seeded.beta_read))
    assert only_error(other_site, 401)


def test_head_and_wrong_methods(vs_client: ApiClient, seeded: Keys) -> None:
    head = vs_client.head(url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read))
    assert head.status_code == 200
    post = vs_client.post(
        url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read),
        content=b"{}",
        headers={"Content-Type": JSONAPI},
    )
    only_error(post, 405)
    assert post.headers["allow"] == "GET, HEAD"


def test_include_and_sort_are_refused(vs_client: ApiClient, seeded: Keys) -> None:
    params = [("include", "schedule"), ("sort", "id"), ("include", "x"), ("fields[visits]", "a")]
    response = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read, params=params))
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert [(e["code"], e["source"]["parameter"]) for e in errors] == [
        ("unsupported-parameter", "include"),
        ("unsupported-parameter", "sort"),
        ("invalid-parameter", "fields[visits]"),
    ]
    # Empty values ask for nothing; any other parameter is refused by name, as on every
    # route of the app (tests/web/test_hardening.py), now that this fixture is the app's own.
    fine = [("include", ""), ("sort", "")]
    ok = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read, params=fine))
    assert ok.status_code == 200, ok.text
    other = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read, params={"x": "1"}))
    assert only_error(other, 400)["code"] == "unknown-parameter"


def test_sparse_fieldsets(vs_client: ApiClient, seeded: Keys) -> None:
    params = [("fields[validation]", "kind,with"), ("fields[patient-instructions]", "")]
    response = vs_client.get(url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read, params=params))
    assert response.status_code == 200, response.text
    assert [o["attributes"] for o in response.json()["data"]][20:] == [
        {"kind": "presence"},
        {"kind": "format", "with": r"\A\d{5}\z"},
        {"kind": "length"},
        {"fields": ["zip", "phone-number"]},
        {},
    ]
    bad = vs_client.get(
        url(f"/visit-settings/{ALPHA_S1}", seeded.alpha_read, params={"fields[validation]": "x"})
    )
    assert only_error(bad, 400)["code"] == "invalid-field"
