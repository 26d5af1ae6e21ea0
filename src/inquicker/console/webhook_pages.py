"""Console webhook pages (admin): the health system's subscriptions, create (the secret
shown once) and delete, each subscription's delivery log with every attempt, and replay of
one delivery or of everything since a time.

Creation, deletion, the delivery log and replays go through the same functions as
`inquicker webhooks ...` (events/subscriptions.py, events/replay.py), and are audited with
the CLI's action names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from inquicker.booking.lifecycle import EVENT_TYPE_NAMES
from inquicker.console import queries
from inquicker.console.pages import Pages
from inquicker.console.web import NotFoundError
from inquicker.events.replay import delivery_history, replay_delivery, replay_since
from inquicker.events.subscriptions import (
    CreatedSubscription,
    SubscriptionError,
    create_subscription,
    delete_subscription,
)
from inquicker.operators import audit, roles
from inquicker.operators.api import client_address
from inquicker.operators.auth import OperatorPrincipal

# Deliveries shown on a subscription's page (newest first), as `webhooks deliveries`.
SHOWN = 50
# The stored answer excerpt is the first 1 KiB; the page shows no more than that.
EXCERPT = 1024


class WebhookPages(Pages):
    async def subscriptions(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.MANAGE_WEBHOOKS)
            systems = queries.health_systems(session, me.health_system_pks)
            created: CreatedSubscription | None = None
            problem = None
            values: dict[str, Any] = {}
            if form is not None:
                self.check_csrf(me, form)
                slug = str(form.get("health-system") or (systems[0].slug if systems else ""))
                system = next((s for s in systems if s.slug == slug), None)
                if system is None:
                    raise NotFoundError(slug)
                url = str(form.get("url", "")).strip()
                chosen = [str(v) for v in form.getlist("events")]
                patient = form.get("include-patient-data") == "1"
                values = {"url": url, "events": chosen, "patient": patient, "hs": slug}
                try:
                    with session.begin_nested():
                        created = create_subscription(
                            session, slug, url, ",".join(chosen) or None, patient
                        )
                        self._audit(
                            request,
                            session,
                            me,
                            "webhook.create",
                            system.pk,
                            subscription=created.subscription_id,
                            url=url,
                            patient_data=str(patient).lower(),
                        )
                except SubscriptionError as exc:
                    problem = str(exc).replace("--include-patient-data", "Include patient data")
            return self.render(
                request,
                "webhooks.html",
                422 if problem else 200,
                principal=me,
                systems=systems,
                subs=queries.subscriptions(session, me.health_system_pks),
                created=created,
                problem=problem,
                values=values if problem else {},
                event_types=EVENT_TYPE_NAMES,
                done=request.query_params.get("done"),
            )

        return await self.run(request, page)

    async def subscription(self, request: Request) -> Response:
        subscription_id = request.path_params["subscription_id"]

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.MANAGE_WEBHOOKS)
            sub = queries.subscription(session, me.health_system_pks, subscription_id)
            if sub is None:
                raise NotFoundError(subscription_id)
            history = delivery_history(session, sub.subscription_id, SHOWN)
            return self.render(
                request,
                "webhook.html",
                principal=me,
                sub=sub,
                deliveries=history,
                visits=queries.event_visits(session, [d.event_pk for d in history]),
                shown=SHOWN,
                excerpt=EXCERPT,
                done=request.query_params.get("done"),
                error=request.query_params.get("error"),
                now=self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M"),
            )

        return await self.run(request, page)

    async def replay(self, request: Request) -> Response:
        """Replay one delivery (form field ``delivery``) or every event since ``since``."""
        subscription_id = request.path_params["subscription_id"]
        form = await request.form()

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.check_csrf(me, form)
            self.require(me, roles.MANAGE_WEBHOOKS)
            sub = queries.subscription(session, me.health_system_pks, subscription_id)
            if sub is None:
                raise NotFoundError(subscription_id)
            where = f"/admin/webhooks/{quote(sub.subscription_id, safe='')}"
            now = int(self.clock().timestamp())
            raw_delivery = str(form.get("delivery", "")).strip()
            if raw_delivery:
                pk = int(raw_delivery) if raw_delivery.isdigit() and len(raw_delivery) < 19 else 0
                if not pk or not queries.delivery_of(session, sub.pk, pk):
                    raise NotFoundError(raw_delivery)
                replay_delivery(session, pk, now)
                self._audit(
                    request, session, me, "webhook.replay", sub.health_system_pk, delivery=str(pk)
                )
                done = f"Delivery {pk} will be sent again."
            else:
                since = _since(str(form.get("since", "")))
                if since is None:
                    message = "Give the time to replay from (UTC), e.g. 2026-12-01T09:00."
                    return RedirectResponse(f"{where}?error={_q(message)}", status_code=303)
                count = replay_since(session, sub.subscription_id, since, now)
                self._audit(
                    request,
                    session,
                    me,
                    "webhook.replay",
                    sub.health_system_pk,
                    subscription=sub.subscription_id,
                    since=since.isoformat(),
                )
                stamp = since.strftime("%Y-%m-%d %H:%M UTC")
                noun = "delivery" if count == 1 else "deliveries"
                done = f"{count} {noun} since {stamp} will be sent again."
            return RedirectResponse(f"{where}?done={_q(done)}", status_code=303)

        return await self.run(request, page)

    async def delete(self, request: Request) -> Response:
        subscription_id = request.path_params["subscription_id"]
        form = await request.form()

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.check_csrf(me, form)
            self.require(me, roles.MANAGE_WEBHOOKS)
            sub = queries.subscription(session, me.health_system_pks, subscription_id)
            if sub is None:
                raise NotFoundError(subscription_id)
            if form.get("confirm") != "1":
                where = f"/admin/webhooks/{quote(sub.subscription_id, safe='')}"
                message = "Tick the box to confirm the deletion; nothing was deleted."
                return RedirectResponse(f"{where}?error={_q(message)}", status_code=303)
            delete_subscription(session, sub.subscription_id)
            self._audit(
                request,
                session,
                me,
                "webhook.delete",
                sub.health_system_pk,
                subscription=sub.subscription_id,
            )
            done = f"Deleted {sub.subscription_id} with its deliveries."
            return RedirectResponse(f"/admin/webhooks?done={_q(done)}", status_code=303)

        return await self.run(request, page)

    def _audit(
        self,
        request: Request,
        session: Session,
        me: OperatorPrincipal,
        action: str,
        health_system_pk: int,
        **details: str,
    ) -> None:
        audit.write(
            session.connection(),
            self.clock(),
            audit.Record(
                me.email,
                action,
                health_system_pk,
                client=client_address(request, self.settings),
                details=details,
            ),
        )


def _since(raw: str) -> datetime | None:
    """A time from the form (datetime-local, or ISO 8601 with an offset); UTC when naive."""
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if not 1900 <= moment.year <= 2200:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _q(text: str) -> str:
    return quote(text, safe="")
