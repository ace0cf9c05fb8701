"""The back office reads like the province's: the declaration as a labelled summary in
words, a history that names each step, each official landing on the box with their work,
and no English codes in Vietnamese pages."""

from __future__ import annotations

from typing import Any

import pytest

from flows import act, user
from test_submission import submission
from tinhso.dossiers.services import dossier_submit

pytestmark = pytest.mark.django_db


def page(client: Any, path: str) -> str:
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 200
    return str(response.content.decode())


def test_the_declaration_reads_in_the_forms_own_words(login_client: Any, citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    html = page(login_client(user("tiepnhan.hacthanh")), f"/can-bo/ho-so/{dossier.code}/")
    declaration = html.split("Tờ khai", 1)[1].split("<h2", 1)[0]
    assert "<h3>Người được khai sinh</h3>" in declaration
    assert "Quan hệ với người được khai sinh</dt><dd>Cha</dd>" in declaration
    assert "Giới tính</dt><dd>Nam</dd>" in declaration
    assert "01/11/2026" in declaration
    # No internal keys, no raw codes, no Python dict.
    for raw in ("quan_he", "gioi_tinh", "ngay_sinh", "'ho_ten'", "{"):
        assert raw not in declaration
    assert "Trực tuyến" in html
    assert ">online<" not in html


def test_the_history_names_each_step(login_client: Any, citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    act(dossier, "tiepnhan.hacthanh", "accept")
    act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    act(dossier, "chuyenvien.hacthanh", "forward", note="Đủ điều kiện")
    act(dossier, "lanhdao.hacthanh", "approve")
    specialist = user("chuyenvien.hacthanh")
    html = page(login_client(user("tiepnhan.hacthanh")), f"/can-bo/ho-so/{dossier.code}/")
    history = html.split("Quá trình xử lý", 1)[1]
    steps = ["Nộp hồ sơ", "Tiếp nhận", f"Phân công xử lý cho {specialist.full_name}",
             "Chuyển lãnh đạo", "Phê duyệt"]  # fmt: skip
    positions = [history.index(f"<strong>{s}</strong>") for s in steps]
    assert positions == sorted(positions)
    # The citizen reads the same steps, without the back office's names.
    mine = page(login_client(citizen), f"/ho-so-cua-toi/{dossier.public_id}/")
    assert "<strong>Phân công xử lý</strong>" in mine
    assert specialist.full_name not in mine


@pytest.mark.parametrize(
    ("official", "box"),
    [("tiepnhan.hacthanh", "tiep-nhan"), ("chuyenvien.hacthanh", "xu-ly"),
     ("lanhdao.hacthanh", "phe-duyet")],
)  # fmt: skip
def test_each_official_lands_on_the_box_with_their_work(
    login_client: Any, citizen: Any, official: str, box: str
) -> None:
    waiting = dossier_submit(submission=submission(citizen))
    moving = dossier_submit(submission=submission(citizen))
    act(moving, "tiepnhan.hacthanh", "accept")
    act(moving, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    if box == "phe-duyet":
        act(moving, "chuyenvien.hacthanh", "forward", note="Đủ điều kiện")
    response = login_client(user(official)).get("/can-bo/ho-so/")
    assert response.context["slug"] == box
    codes = [row["dossier"].code for row in response.context["rows"]]
    assert codes == [waiting.code if box == "tiep-nhan" else moving.code]
    # Asking for a box by name still shows that box.
    asked = login_client(user(official)).get("/can-bo/ho-so/", {"hop": "qua-han"})
    assert asked.context["slug"] == "qua-han"
