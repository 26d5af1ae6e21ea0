"""Which webhook URLs are refused, and why (pure)."""

from __future__ import annotations

import pytest

from inquicker.events.subscriptions import (
    SubscriptionError,
    check_url,
    new_secret,
    parse_event_types,
)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/hook", "the URL must start with http:// or https://"),
        ("file:///etc/passwd", "the URL must start with http:// or https://"),
        ("example.com/hook", "the URL must start with http:// or https://"),
        ("http:///path", "the URL has no host"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a cloud metadata address"),
        ("http://169.254.10.1/", "169.254.10.1 is a link-local address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://[::ffff:169.254.169.254]/", "169.254.169.254 is a cloud metadata address"),
        ("http://0.0.0.0:8000/", "0.0.0.0 is the unspecified address"),
        ("http://metadata.google.internal/", "metadata.google.internal is a cloud metadata host"),
        ("http://100.100.100.200/", "100.100.100.200 is a cloud metadata address"),
        ("http://2852039166/", "2852039166 is not a host name or a dotted IP address"),
        (
            "http://user:pw@example.com/",
            "the URL may not carry credentials; use the signing secret",
        ),
        ("http://example.com:99999999/", "not a valid URL: 'http://example.com:99999999/'"),
        ("http://exa mple.com/", "the URL must be a single http:// or https:// address"),
    ],
)
def test_refused_urls(url: str, reason: str) -> None:
    with pytest.raises(SubscriptionError) as refused:
        check_url(url)
    assert str(refused.value) == reason


@pytest.mark.parametrize(
    "url",
    ["https://ehr.example.org/hooks", "http://10.0.0.5:8080/in", "http://127.0.0.1:9000/"],
)
def test_accepted_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://ehr.example.org/hooks", True),
        ("http://127.0.0.1:9000/", True),
        ("http://[::1]:9000/", True),
        ("http://localhost:9000/", True),
        ("http://ehr.example.org/hooks", False),
        ("http://10.0.0.5/", False),
    ],
)
def test_patient_data_needs_https_or_loopback(url: str, allowed: bool) -> None:
    if allowed:
        assert check_url(url, include_patient_data=True) == url
    else:
        with pytest.raises(SubscriptionError, match="needs an https:// URL"):
            check_url(url, include_patient_data=True)


def test_event_types_are_checked_and_default_to_all() -> None:
    assert parse_event_types(None) == []
    assert parse_event_types("visit.cancelled, visit.booked,visit.booked") == [
        "visit.booked",
        "visit.cancelled",
    ]
    with pytest.raises(SubscriptionError, match=r"unknown event type 'visit\.deleted'"):
        parse_event_types("visit.booked,visit.deleted")


def test_secrets_are_whsec_and_32_random_bytes() -> None:
    import base64

    one, two = new_secret(), new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32
