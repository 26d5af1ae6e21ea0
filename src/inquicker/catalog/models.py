"""Catalog tables other than schedules.

Every catalog row has an integer ``pk`` for joins and a ``slug``: the permalink the health
system chose, which is the resource id in the API and unique within the health system.
"""

from __future__ import annotations

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from inquicker.db.base import Base


class TenantOwned:
    """Columns shared by every catalog table: surrogate key, owner, permalink."""

    pk: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100))

    @declared_attr
    def health_system_pk(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("health_systems.pk", ondelete="CASCADE"), index=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint | Index, ...]:  # noqa: N805
        return (UniqueConstraint("health_system_pk", "slug"),)


def tenant_table_args(table: str, *sorts: tuple[str, ...]) -> tuple[UniqueConstraint | Index, ...]:
    """The permalink key, and one (health system, columns...) index per list order or filter.

    Every list is scoped to the request's health systems and ordered (or filtered) by these
    columns: with the tenant first, a page is read in order from the index and the count
    reads only the tenant's entries, whatever the other tenants hold (docs/operations.md,
    "Indexes").
    """
    return (
        UniqueConstraint("health_system_pk", "slug"),
        *(Index(f"ix_{table}_hs_{'_'.join(cols)}", "health_system_pk", *cols) for cols in sorts),
    )


class Region(TenantOwned, Base):
    __tablename__ = "regions"

    name: Mapped[str] = mapped_column(String(200))


class Location(TenantOwned, Base):
    __tablename__ = "locations"
    __table_args__ = tenant_table_args(
        "locations", ("name",), ("facility_name",), ("city",), ("state",), ("zip",)
    )

    region_pk: Mapped[int | None] = mapped_column(
        ForeignKey("regions.pk", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    facility_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(50))
    zip: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(40))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class Service(TenantOwned, Base):
    __tablename__ = "services"
    __table_args__ = tenant_table_args("services", ("name",))

    name: Mapped[str] = mapped_column(String(200))


class MedicalGroup(TenantOwned, Base):
    __tablename__ = "medical_groups"
    __table_args__ = tenant_table_args("medical_groups", ("name",))

    name: Mapped[str] = mapped_column(String(200))


class Provider(TenantOwned, Base):
    __tablename__ = "providers"
    __table_args__ = tenant_table_args(
        "providers", ("name",), ("gender",), ("affiliation",), ("provider_type",)
    )

    name: Mapped[str] = mapped_column(String(200))
    suffix: Mapped[str | None] = mapped_column(String(50))
    gender: Mapped[str | None] = mapped_column(String(1))  # "m" / "f"
    affiliation: Mapped[str | None] = mapped_column(String(20))
    provider_type: Mapped[str] = mapped_column(String(30), default="Practitioner")
    bio: Mapped[str | None] = mapped_column(Text)
    credentials: Mapped[str | None] = mapped_column(String(200))
    card_image: Mapped[str | None] = mapped_column(String(500))
    profile_image: Mapped[str | None] = mapped_column(String(500))
    grad_school: Mapped[str | None] = mapped_column(String(200))
    undergrad_school: Mapped[str | None] = mapped_column(String(200))
    backgrounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    subspecialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)


class ProviderLanguage(Base):
    """One row per language a provider speaks, lower-cased: the ``language`` filter's index."""

    __tablename__ = "provider_languages"

    provider_pk: Mapped[int] = mapped_column(
        ForeignKey("providers.pk", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class ProviderMedicalGroup(Base):
    __tablename__ = "provider_medical_groups"

    provider_pk: Mapped[int] = mapped_column(
        ForeignKey("providers.pk", ondelete="CASCADE"), primary_key=True
    )
    medical_group_pk: Mapped[int] = mapped_column(
        ForeignKey("medical_groups.pk", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class AppointmentType(TenantOwned, Base):
    __tablename__ = "appointment_types"
    __table_args__ = tenant_table_args("appointment_types", ("priority", "name"), ("name",))

    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, default=5)  # 1 highest .. 10 lowest
    duration_minutes: Mapped[int] = mapped_column(Integer, default=15)


class InsurancePlan(TenantOwned, Base):
    __tablename__ = "insurance_plans"
    __table_args__ = tenant_table_args("insurance_plans", ("company", "name"), ("name",))

    company: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))


class AcceptanceList(Base):
    """What one level of the hierarchy says about plans for one service.

    ``level`` is health-system, region, location or schedule; ``scope_pk`` is the pk of the
    region, location or schedule (null at health-system level). An empty list still "says
    something": it means that level accepts no plan for the service.
    """

    __tablename__ = "acceptance_lists"
    __table_args__ = (UniqueConstraint("health_system_pk", "level", "scope_pk", "service_pk"),)

    pk: Mapped[int] = mapped_column(primary_key=True)
    health_system_pk: Mapped[int] = mapped_column(
        ForeignKey("health_systems.pk", ondelete="CASCADE"), index=True
    )
    level: Mapped[str] = mapped_column(String(20))
    scope_pk: Mapped[int | None] = mapped_column(Integer)
    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"))


class AcceptanceListPlan(Base):
    __tablename__ = "acceptance_list_plans"

    list_pk: Mapped[int] = mapped_column(
        ForeignKey("acceptance_lists.pk", ondelete="CASCADE"), primary_key=True
    )
    plan_pk: Mapped[int] = mapped_column(
        ForeignKey("insurance_plans.pk", ondelete="CASCADE"), primary_key=True
    )
