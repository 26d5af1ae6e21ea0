"""Generate a large synthetic health system as a data bundle (for benchmarks).

.venv/bin/python -m bench.generate --providers 5000 --schedules 20000 -o /tmp/big.json
"""

from __future__ import annotations

import argparse
import random
import uuid
from pathlib import Path
from typing import Any

import orjson

HOSTNAME = "bench.inquicker.com"
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
LANGUAGES = ["English", "Spanish", "French", "Vietnamese", "Mandarin", "Arabic", "German"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def generate(providers: int, schedules: int, locations: int, seed: int = 7) -> dict[str, Any]:
    """A deterministic bundle document of the requested size."""
    rng = random.Random(seed)
    services = [{"id": f"service-{i}", "name": f"Service {i}"} for i in range(20)]
    types = [
        {
            "id": f"type-{i}",
            "name": f"Type {i}",
            "priority": 1 + i % 10,
            "duration_minutes": [15, 30, 60][i % 3],
        }
        for i in range(12)
    ]
    plans = [
        {"id": f"plan-{i}", "company": f"Company {i // 3}", "name": f"Plan {i}"} for i in range(40)
    ]
    regions = [{"id": f"region-{i}", "name": f"Region {i}"} for i in range(10)]
    groups = [{"id": f"group-{i}", "name": f"Group {i}"} for i in range(50)]
    locs = [
        {
            "id": f"location-{i}",
            "name": f"Location {i}",
            "region": f"region-{i % 10}",
            "city": "Nashville",
            "state": "TN",
            "zip": "37201",
            "latitude": round(rng.uniform(30.0, 45.0), 5),
            "longitude": round(rng.uniform(-120.0, -75.0), 5),
        }
        for i in range(locations)
    ]
    provs = [
        {
            "id": f"provider-{i}",
            "name": f"Provider {i:05d}",
            "gender": rng.choice(["m", "f"]),
            "affiliation": rng.choice(["employed", "affiliated"]),
            "provider_type": "Health Resource" if i % 25 == 0 else "Practitioner",
            "languages": rng.sample(LANGUAGES, k=rng.randint(1, 3)),
            "medical_groups": [f"group-{i % 50}"],
        }
        for i in range(providers)
    ]
    scheds = []
    for i in range(schedules):
        opens = rng.choice(["07:00", "08:00", "09:00", "12:00"])
        scheds.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "name": f"Schedule {i}",
                "provider": f"provider-{i % providers}",
                "location": f"location-{rng.randrange(locations)}",
                "service": f"service-{rng.randrange(20)}",
                "time_zone": rng.choice(ZONES),
                "accepting_new_patients": rng.random() < 0.8,
                "appointment_types": [{"id": t} for t in rng.sample([t["id"] for t in types], k=2)],
                "hours": [{"days": WEEKDAYS, "opens": opens, "closes": "17:00"}],
            }
        )
    acceptance = [
        {
            "level": "health-system",
            "scope": None,
            "service": s["id"],
            "plans": [p["id"] for p in rng.sample(plans, k=10)],
        }
        for s in services
    ]
    return {
        "format": "inquicker-bundle/1",
        "health_system": {"id": "bench-health", "name": "Bench Health"},
        "sites": [{"hostname": HOSTNAME, "name": "Bench"}],
        "regions": regions,
        "locations": locs,
        "services": services,
        "medical_groups": groups,
        "providers": provs,
        "appointment_types": types,
        "insurance_plans": plans,
        "insurance_acceptance": acceptance,
        "schedules": scheds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", type=int, default=5000)
    parser.add_argument("--schedules", type=int, default=20000)
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    doc = generate(args.providers, args.schedules, args.locations)
    args.output.write_bytes(orjson.dumps(doc))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
