"""The requests of bench/suite.py: each scenario's path and the memory phase's mix."""

from __future__ import annotations

from bench.dataset import API, DataSet
from bench.harness import Request

GETS = ("providers-near", "location-schedules", "schedule", "insurance-plans", "availability")
SCENARIOS = (*GETS, "memory", "visit-token", "visits", "scaling")
DESCRIPTIONS = {
    "providers-near": "provider search near a point, include=schedules, page of 50",
    "location-schedules": "one location's schedules, include=insurance-plans",
    "schedule": "one schedule",
    "insurance-plans": "insurance plans (first page)",
    "availability": "available times, 10 schedules x 14 days",
    "visit-token": "GET /visit-token, a distinct free slot each (holds the seat)",
    "visits": "POST /visits, one pre-issued token each",
}
NEAR = "filter[near]=[36.16,-86.78]"
# Requests per second the booking lists are sized for; a faster server uses its list up
# early (the table says so) and is measured over the time the list lasted.
BOOKING_RATE_CAP = 2_500


def get_paths(data: DataSet) -> dict[str, str]:
    location = f"location-{min(7, data.locations - 1)}"
    schedule = data.schedule_ids[len(data.schedule_ids) // 2]
    ids = "&".join(f"schedule_ids[]={i}" for i in data.availability_ids)
    return {
        "providers-near": f"{API}/providers?{NEAR}&include=schedules&page[size]=50",
        "location-schedules": f"{API}/locations/{location}/schedules?include=insurance-plans",
        "schedule": f"{API}/schedules/{schedule}",
        "insurance-plans": f"{API}/insurance-plans",
        "availability": f"{API}/available-appointment-times?{ids}",
    }


def memory_mix(data: DataSet, paths: int = 10_000) -> list[Request]:
    """Catalog GETs over many resources, mostly the cheap and numerous ones, so that 100,000
    requests take a minute or two; the nonce makes every URL distinct anyway. Per 100:
    40 schedules, 20 providers, 20 insurance-plan pages, 10 location schedules, 5
    availability sets, 4 provider lists, 1 provider search near a varying point."""
    ids = data.schedule_ids
    out = []
    for n in range(paths):
        k = n % 100
        if k < 40:
            path = f"{API}/schedules/{ids[n % len(ids)]}"
        elif k < 60:
            path = f"{API}/providers/provider-{n % data.providers}"
        elif k < 80:
            path = f"{API}/insurance-plans?page[number]={1 + n % 4}"
        elif k < 90:
            path = f"{API}/locations/location-{n % data.locations}/schedules"
        elif k < 95:
            group = (ids[(n + j * 997) % len(ids)] for j in range(10))
            path = f"{API}/available-appointment-times?" + "&".join(
                f"schedule_ids[]={i}" for i in group
            )
        elif k < 99:
            path = f"{API}/providers?page[number]={1 + n % 50}"
        else:
            path = f"{API}/providers?filter[near]=[{30 + n % 15},{-120 + n % 45}]"
        out.append(Request("GET", path, data.auth))
    return out
