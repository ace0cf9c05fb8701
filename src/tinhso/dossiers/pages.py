"""What the citizens' pages (views.py) and the officials' pages (official_views.py) share:
the papers offered with a form, and an issued form as a PDF response."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.catalog.models import Procedure
from tinhso.core import files as dossier_files
from tinhso.dossiers.models import Dossier, DossierDocument
from tinhso.dossiers.selectors import stored_papers_of
from tinhso.dossiers.services import Attachment


def attachments_from_request(
    request: HttpRequest, procedure: Procedure, user: User
) -> tuple[list[Attachment], dict[str, list[str]]]:
    """The papers offered in this request (uploads checked by content, or stored papers)."""
    attachments: list[Attachment] = []
    errors: dict[str, list[str]] = {}
    for paper in procedure.papers.all():
        key = f"paper-{paper.pk}"
        stored_id = request.POST.get(f"stored-{paper.pk}")
        upload = request.FILES.get(key)
        if upload is not None:
            try:
                attachments.append(
                    Attachment(paper=paper, upload=dossier_files.check_upload(upload))
                )
            except ValidationError as exc:
                errors.setdefault(key, []).extend(exc.messages)
        elif stored_id:
            stored = stored_papers_of(user, paper.paper_type).filter(pk=stored_id).first()
            if stored is None:
                errors.setdefault(key, []).append(_("You have no such stored paper."))
            else:
                attachments.append(Attachment(paper=paper, stored=stored))
    return attachments, errors


def document_pending_response(
    request: HttpRequest, dossier: Dossier, document: DossierDocument
) -> HttpResponse:
    """A form still being issued (ADR 0023): 409 with a page saying so, and when to try
    again."""
    response = render(
        request, "dossiers/document_pending.html",
        {"dossier": dossier, "document": document}, status=409,
    )  # fmt: skip
    response["Retry-After"] = "10"
    return response


def document_response(
    request: HttpRequest, dossier: Dossier, document_id: int
) -> HttpResponse | FileResponse:
    """An issued form of `dossier` as an inline PDF (never cached), or the page saying it
    is being issued; the caller checked that the user may see it."""
    document = dossier.documents.filter(pk=document_id).first()
    if document is None:
        raise Http404
    if not document.ready:
        return document_pending_response(request, dossier, document)
    return dossier_files.document_response(
        document.storage_name, filename=f"{document.kind}-{dossier.code}.pdf"
    )
