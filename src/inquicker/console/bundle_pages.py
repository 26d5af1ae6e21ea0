"""Console bundle upload (admin): the CLI's `inquicker import` from a browser.

The file is read and checked by the CLI's own functions (bundle.io, bundle.importer): all
or nothing, every problem reported with its path in the document, the health system's data
version bumped by the import so every process serves the new catalog. An operator of one
health system may import only that health system's bundle; a superuser any, new ones too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from inquicker.bundle.importer import ImportResult, import_bundle
from inquicker.bundle.io import loads_document
from inquicker.bundle.schema import BundleError, Problem
from inquicker.console import queries
from inquicker.console.pages import Pages
from inquicker.operators import audit, roles
from inquicker.operators.api import client_address
from inquicker.operators.auth import OperatorPrincipal
from inquicker.web.edge import UPLOAD_LIMITS

MAX_BYTES = UPLOAD_LIMITS["/admin/bundle"]
SECTION_NAMES = {"health_system": "health system"}


class BundlePages(Pages):
    async def bundle(self, request: Request) -> Response:
        upload: tuple[str, bytes] | None = None
        form: Any = None
        if request.method == "POST":
            form = await request.form(max_files=1, max_fields=10)
            file = form.get("bundle")
            if isinstance(file, UploadFile):
                raw = await file.read(MAX_BYTES + 1)
                upload = (file.filename or "bundle.json", raw)

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.IMPORT_BUNDLES)
            systems = queries.health_systems(session, me.health_system_pks)
            if form is None:
                return self._page(request, me, systems)
            self.check_csrf(me, form)
            if upload is None or not upload[1]:
                return self._page(request, me, systems, [Problem("", "Choose a bundle file.")])
            name, raw = upload
            try:
                if len(raw) > MAX_BYTES:
                    raise BundleError([Problem("", f"{name}: larger than {MAX_BYTES} bytes")])
                document = loads_document(raw, name)
                allowed = {s.slug for s in systems}
                wanted = _health_system_id(document)
                if not me.superuser and wanted not in allowed:
                    raise BundleError(
                        [
                            Problem(
                                "health_system.id",
                                f"must be {' or '.join(sorted(allowed))}: you may import"
                                " only your own health system's bundle",
                            )
                        ]
                    )
                with session.begin_nested():
                    result = import_bundle(session, document)
            except BundleError as exc:
                self._audit(
                    request,
                    session,
                    me,
                    "bundle.refused",
                    None,
                    file=name[:200],
                    problems=str(len(exc.problems)),
                )
                return self._page(request, me, systems, exc.problems, name=name)
            hs_pk = next(
                (s.pk for s in queries.health_systems_by_slug(session, [result.health_system])),
                None,
            )
            self._audit(
                request,
                session,
                me,
                "bundle.import",
                hs_pk,
                file=name[:200],
                health_system=result.health_system,
                data_version=str(result.data_version),
                created=str(result.created).lower(),
            )
            return self._page(request, me, systems, result=result, name=name)

        return await self.run(request, page)

    def _page(
        self,
        request: Request,
        me: OperatorPrincipal,
        systems: list[Any],
        problems: list[Problem] | None = None,
        result: ImportResult | None = None,
        name: str | None = None,
    ) -> Response:
        return self.render(
            request,
            "bundle.html",
            422 if problems else 200,
            principal=me,
            systems=systems,
            problems=problems or [],
            result=result,
            name=name,
            sections=SECTION_NAMES,
        )

    def _audit(
        self,
        request: Request,
        session: Session,
        me: OperatorPrincipal,
        action: str,
        health_system_pk: int | None,
        **details: str,
    ) -> None:
        audit.write(
            session.connection(),
            self.clock(),
            audit.Record(
                me.email,
                action,
                health_system_pk if health_system_pk is not None else _only(me),
                client=client_address(request, self.settings),
                details=details,
            ),
        )


def _health_system_id(document: dict[str, Any]) -> str | None:
    section = document.get("health_system")
    found = section.get("id") if isinstance(section, dict) else None
    return found if isinstance(found, str) else None


def _only(me: OperatorPrincipal) -> int | None:
    """The operator's health system when there is just one (the audit entry's tenant)."""
    return me.health_system_pks[0] if len(me.health_system_pks) == 1 else None
