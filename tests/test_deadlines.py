"""BM.04 before a dossier is late, and warnings as due times near."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from flows import user
from test_submission import submission
from tinhso.core.files import read_bytes
from tinhso.core.models import Notification
from tinhso.dossiers.deadlines import deadline_warnings_send
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.services import dossier_submit
from tinhso.dossiers.transitions import dossier_act

pytestmark = pytest.mark.django_db


def accepted(citizen: Any) -> Dossier:
    dossier = dossier_submit(submission=submission(citizen))
    dossier = dossier_act(
        dossier=dossier, actor=user("tiepnhan.hacthanh"), action="accept", version=dossier.version
    )
    return dossier_act(
        dossier=dossier,
        actor=user("tiepnhan.hacthanh"),
        action="assign",
        version=dossier.version,
        assignee=user("chuyenvien.hacthanh"),
    )


def test_bm04_moves_the_due_time_and_tells_the_citizen(
    client: Client, token_for: Any, citizen: Any
) -> None:
    dossier = accepted(citizen)
    new_due = dossier.due_at + timedelta(days=3)
    response = client.post(
        f"/api/v1/dossiers/{dossier.code}/extension",
        {
            "reason": "Chờ xác minh thông tin từ địa phương khác",
            "new_due": new_due.isoformat(),
            "version": dossier.version,
        },
        content_type="application/json",
        headers=token_for(user("chuyenvien.hacthanh")),
    )
    assert response.status_code == 200
    dossier.refresh_from_db()
    assert dossier.due_at == new_due
    document = dossier.documents.get(kind="BM04")
    text = PdfReader(io.BytesIO(read_bytes(document.storage_name))).pages[0].extract_text()
    assert "PHIẾU XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT" in text
    assert "Chờ xác minh thông tin từ địa phương khác" in text
    assert (
        Notification.objects.filter(
            user=citizen, subject__contains=dossier.code, channel="inbox"
        ).count()
        >= 2
    )


def test_bm04_is_refused_once_late_and_for_strangers(
    client: Client, token_for: Any, citizen: Any
) -> None:
    dossier = accepted(citizen)
    body = {
        "reason": "Lý do",
        "new_due": (dossier.due_at + timedelta(days=2)).isoformat(),
        "version": dossier.version,
    }
    stranger = client.post(
        f"/api/v1/dossiers/{dossier.code}/extension",
        body,
        content_type="application/json",
        headers=token_for(user("chuyenvien")),
    )
    assert stranger.status_code == 403
    Dossier.objects.filter(pk=dossier.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    late = client.post(
        f"/api/v1/dossiers/{dossier.code}/extension",
        body,
        content_type="application/json",
        headers=token_for(user("chuyenvien.hacthanh")),
    )
    assert late.status_code == 422
    assert not Dossier.objects.get(pk=dossier.pk).documents.filter(kind="BM04").exists()


def test_officials_are_warned_once_as_the_due_time_nears(citizen: Any) -> None:
    dossier = accepted(citizen)
    Dossier.objects.filter(pk=dossier.pk).update(due_at=timezone.now() + timedelta(hours=2))
    far = accepted(citizen)
    Dossier.objects.filter(pk=far.pk).update(due_at=timezone.now() + timedelta(days=30))
    assert deadline_warnings_send() == 1
    warned = Notification.objects.filter(user=user("chuyenvien.hacthanh"), channel="inbox")
    assert warned.count() == 1
    assert dossier.code in warned.get().subject
    assert deadline_warnings_send() == 0  # once per due time
