"""Fees and cashless payment: the fee schedule, VietQR (checked with a decoder nobody here
wrote), the bank's signed notifications (forged, replayed, out of order, wrong amount, late,
twice), the dossier that moves on by itself when paid, receipts and refunds."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from crccheck.crc import Crc16CcittFalse
from django.test import Client
from django.utils import timezone
from vietqr_emvco import VietQRParser

from flows import act, user
from test_submission import submission
from tinhso.catalog.models import Procedure
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.services import Attachment, Submission, dossier_submit
from tinhso.payments.bank import SimulatedBank
from tinhso.payments.fees import fee_quote
from tinhso.payments.models import (
    BankNotification,
    BankTransaction,
    Outcome,
    Payment,
    PaymentState,
    Review,
)
from tinhso.payments.services import payment_expire_due, refund_record
from tinhso.payments.vietqr import VietQR, VietQRError, vietqr_parse
from tinhso.signing.services import signed_content
from tinhso.signing.verify import pdf_verify

pytestmark = pytest.mark.django_db


def fee_submission(citizen: Any, copies: int = 1) -> Submission:
    """A certificate of marital status (15,000 đ per copy) asked of Hạc Thành."""
    from tinhso.catalog.eform import form_sample
    from tinhso.core import files
    from tinhso.dossiers.demo import profile_of, simple_pdf

    procedure = Procedure.objects.get(code="1.004873")
    profile = profile_of(citizen)
    scan = files.check_upload(None, name="scan.pdf", content=simple_pdf(["scan"]))
    form = form_sample(procedure.form_schema, profile)
    form["so_ban"] = copies
    return submission(
        citizen, procedure=procedure, form_data=form,
        attachments=[Attachment(paper=p, upload=scan) for p in procedure.papers.all()
                     if p.required and not p.eform],
    )  # fmt: skip


def waiting_for_payment(citizen: Any, copies: int = 2) -> Dossier:
    """A certificate of marital status for `copies` copies at Hạc Thành, in status 6."""
    dossier = dossier_submit(submission=fee_submission(citizen, copies))
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    return act(dossier, "chuyenvien.hacthanh", "request_payment")


def pending(dossier: Dossier) -> Payment:
    return dossier.payments.get(state=PaymentState.PENDING)


def bank_through(client: Client) -> SimulatedBank:
    """The simulated bank, posting to the endpoint through Django's test client."""

    def send(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        answer = client.generic(
            "POST", urlparse(url).path, body, content_type=headers["Content-Type"],
            headers={"X-Signature": headers["X-Signature"]},
        )  # fmt: skip
        return answer.status_code, answer.content.decode()

    return SimulatedBank(transport=send)


@pytest.fixture
def bank(client: Client) -> SimulatedBank:
    return bank_through(client)


# --- fees and VietQR -------------------------------------------------------------------------


def test_the_fee_is_per_copy_and_an_exemption_names_its_legal_basis() -> None:
    marital = Procedure.objects.get(code="1.004873")
    quote = fee_quote(marital, {"so_ban": 3})
    assert (quote.total, quote.lines[0].quantity) == (45000, 3)
    criminal = Procedure.objects.get(code="2.000488")
    assert fee_quote(criminal, {}).total == 200000
    assert fee_quote(criminal, {"so_phieu_them": 2}).total == 210000
    exempt = fee_quote(criminal, {}, exemption="nguoi_co_cong")
    assert exempt.total == 0
    assert exempt.lines[0].exemption_basis == "Thông tư số 244/2016/TT-BTC, Điều 5"


def test_the_vietqr_decodes_field_by_field_with_an_independent_decoder(citizen: Any) -> None:
    payment = pending(waiting_for_payment(citizen))
    payload = payment.vietqr()
    decoded = VietQRParser.parse(payload)
    assert decoded["payload_format_indicator"] == "01"
    assert decoded["point_of_initiation_method"] == "12"
    assert decoded["napas_guid"] == "A000000727"
    assert decoded["bank_bin"] == "970415"
    assert decoded["account_number"] == "113000038160"
    assert decoded["service_code"] == "QRIBFTTA"
    assert decoded["currency"] == "704"
    assert decoded["amount"] == 30000
    assert decoded["country_code"] == "VN"
    assert decoded["memo"] == payment.reference
    assert VietQRParser.verify_checksum(payload)
    assert f"{Crc16CcittFalse.calc(payload[:-4].encode()):04X}" == payload[-4:]
    broken = payload.replace("30000", "30001")
    assert not VietQRParser.verify_checksum(broken)
    with pytest.raises(VietQRError):
        vietqr_parse(broken)


def test_a_payload_refuses_what_a_bank_app_would_choke_on() -> None:
    with pytest.raises(VietQRError):
        VietQR("97041", "1130", 1000, "TS1").payload()
    with pytest.raises(VietQRError):
        VietQR("970415", "1130", 0, "TS1").payload()
    with pytest.raises(VietQRError):
        VietQR("970415", "1130", 1000, "mã có dấu").payload()


# --- the bank pays ---------------------------------------------------------------------------


def test_paying_moves_the_dossier_on_by_itself_with_a_signed_receipt(
    citizen: Any, bank: SimulatedBank
) -> None:
    dossier = waiting_for_payment(citizen)
    assert dossier.status == DossierStatus.PAYMENT_REQUESTED
    payment = pending(dossier)
    status, answer = bank.pay(payment.vietqr())
    assert (status, json.loads(answer)["result"]) == (200, "credited")
    payment.refresh_from_db()
    assert (payment.state, payment.paid_amount) == (PaymentState.SUCCEEDED, 30000)
    dossier.refresh_from_db()
    assert (dossier.status, dossier.state) == (DossierStatus.PROCESSING, "processing")
    paid = dossier.events.get(action="paid")
    assert paid.actor is None
    assert payment.reference in paid.note
    assert payment.receipt is not None
    report = pdf_verify(signed_content(payment.receipt))
    assert report.ok
    assert report.signatures[0].kind == "seal"


def test_the_receipt_carries_form_series_number_and_the_amount_in_words(
    citizen: Any, bank: SimulatedBank
) -> None:
    """A Vietnamese e-receipt: form number and series (mẫu số, ký hiệu), a number from 1
    in its series per agency with no gap, the total in figures and in words."""
    from pypdf import PdfReader

    receipts = []
    for _ in range(2):
        payment = pending(waiting_for_payment(citizen))
        bank.pay(payment.vietqr())
        payment.refresh_from_db()
        receipts.append(payment)
    year = f"{timezone.localdate(receipts[0].paid_at):%y}"
    assert [(p.receipt_form, p.receipt_series, p.receipt_number) for p in receipts] == [
        ("01BLP0-001", f"TS-{year}E", "0000001"),
        ("01BLP0-001", f"TS-{year}E", "0000002"),
    ]
    assert receipts[1].receipt is not None
    reader = PdfReader(io.BytesIO(signed_content(receipts[1].receipt)))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in [
        "BIÊN LAI THU PHÍ, LỆ PHÍ",
        "Số: 0000002",
        f"Mẫu số: 01BLP0-001 – Ký hiệu: TS-{year}E",
        "Tổng số tiền đã nộp: 30.000 đồng",
        "Số tiền viết bằng chữ: Ba mươi nghìn đồng",
        receipts[1].reference,
        citizen.full_name,
    ]:
        assert expected in text, expected


def test_a_forged_or_unsigned_notification_is_refused_and_kept_for_the_accountant(
    client: Client, citizen: Any
) -> None:
    payment = pending(waiting_for_payment(citizen))
    body = json.dumps({"transaction_id": "FT1", "reference": payment.reference,
                       "amount": payment.amount, "status": "succeeded",
                       "occurred_at": timezone.now().isoformat()}).encode()  # fmt: skip
    forged = SimulatedBank(transport=lambda *a: (0, ""), secret=b"not the bank's secret")
    for signature in ("", forged.signer.sign(body), "sha256=" + "0" * 64):
        answer = client.generic(
            "POST", "/api/v1/payments/callback", body, content_type="application/json",
            headers={"X-Signature": signature} if signature else {},
        )  # fmt: skip
        assert answer.status_code == 401
        assert answer.json()["result"] == "rejected"
    payment.refresh_from_db()
    assert payment.state == PaymentState.PENDING
    assert not BankTransaction.objects.exists()
    assert BankNotification.objects.filter(outcome=Outcome.REJECTED).count() == 3


def test_a_replayed_notification_credits_once(citizen: Any, bank: SimulatedBank) -> None:
    payment = pending(waiting_for_payment(citizen))
    for expected in ("credited", "duplicate", "duplicate"):
        status, answer = bank.pay(payment.vietqr(), transaction_id="FT-REPLAY-1")
        assert (status, json.loads(answer)["result"]) == (200, expected)
    assert BankTransaction.objects.filter(transaction_id="FT-REPLAY-1").count() == 1
    payment.refresh_from_db()
    assert payment.events.filter(to_state=PaymentState.SUCCEEDED).count() == 1
    assert payment.dossier.events.filter(action="paid").count() == 1


def test_a_wrong_amount_is_held_for_review_never_marked_paid(
    citizen: Any, bank: SimulatedBank
) -> None:
    dossier = waiting_for_payment(citizen)
    payment = pending(dossier)
    status, answer = bank.pay(payment.vietqr(), amount=3000)
    assert (status, json.loads(answer)["result"]) == (200, "amount_mismatch")
    payment.refresh_from_db()
    assert (payment.state, payment.review) == (PaymentState.PENDING, Review.AMOUNT_MISMATCH)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.PAYMENT_REQUESTED
    # The accountant sends the 3,000 đ back; the citizen pays the right amount.
    refund_record(payment=payment, amount=3000, reason="Sai số tiền", actor=user("ketoan.hacthanh"))
    payment.refresh_from_db()
    assert payment.review == Review.NONE
    assert json.loads(bank.pay(payment.vietqr())[1])["result"] == "credited"


def test_notifications_out_of_order_never_undo_a_payment(citizen: Any, bank: SimulatedBank) -> None:
    payment = pending(waiting_for_payment(citizen))
    earlier = timezone.now() - timedelta(minutes=5)
    # A failed attempt first, then success: credited.
    assert json.loads(bank.pay(payment.vietqr(), status="failed", occurred_at=earlier,
                               transaction_id="FT-A")[1])["result"] == "failed"  # fmt: skip
    assert json.loads(bank.pay(payment.vietqr(), transaction_id="FT-B")[1])["result"] == (
        "credited"
    )
    # An older failure arriving after the success changes nothing.
    status, answer = bank.pay(payment.vietqr(), status="failed", occurred_at=earlier,
                              transaction_id="FT-C")  # fmt: skip
    assert (status, json.loads(answer)["result"]) == (200, "out_of_order")
    payment.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED


def test_money_after_expiry_or_twice_is_recorded_and_flagged_for_refund(
    citizen: Any, bank: SimulatedBank
) -> None:
    late = pending(waiting_for_payment(citizen))
    Payment.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    assert payment_expire_due() == 1
    assert json.loads(bank.pay(late.vietqr())[1])["result"] == "late"
    late.refresh_from_db()
    assert (late.state, late.review) == (PaymentState.EXPIRED, Review.PAID_AFTER_EXPIRY)
    assert BankTransaction.objects.filter(payment=late).count() == 1  # the money is on record
    twice = pending(waiting_for_payment(citizen))
    bank.pay(twice.vietqr())
    assert json.loads(bank.pay(twice.vietqr())[1])["result"] == "paid_twice"
    twice.refresh_from_db()
    assert (twice.state, twice.review) == (PaymentState.SUCCEEDED, Review.PAID_TWICE)


def test_a_malformed_but_signed_notification_is_refused(
    client: Client, bank: SimulatedBank
) -> None:
    body = b'{"transaction_id": "FT9", "amount": "lots"}'
    answer = client.generic(
        "POST", "/api/v1/payments/callback", body, content_type="application/json",
        headers={"X-Signature": bank.signer.sign(body)},
    )  # fmt: skip
    assert answer.status_code == 400
    assert BankNotification.objects.filter(outcome=Outcome.MALFORMED).count() == 1


def test_a_payment_for_an_unknown_reference_is_held(bank: SimulatedBank) -> None:
    status, answer = bank.notify(reference="TSNOSUCHREF", amount=15000)
    assert (status, json.loads(answer)["result"]) == (200, "unknown_reference")
    assert BankTransaction.objects.filter(payment__isnull=True).count() == 1


# --- the API ---------------------------------------------------------------------------------


def test_post_payments_is_idempotent_and_private(
    client: Client, token_for: Any, citizen: Any, other_citizen: Any
) -> None:
    dossier = dossier_submit(submission=fee_submission(citizen))
    headers = {**token_for(citizen), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/payments", {"dossier": dossier.code},
                        content_type="application/json", headers=headers)  # fmt: skip
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/payments", {"dossier": dossier.code},
                        content_type="application/json", headers=headers)  # fmt: skip
    assert (again.status_code, again.json()["reference"]) == (200, first.json()["reference"])
    other = client.post("/api/v1/payments", {"dossier": dossier.code, "exemption": "ho_ngheo"},
                        content_type="application/json", headers=headers)  # fmt: skip
    assert other.status_code == 409
    body = first.json()
    assert VietQRParser.parse(body["vietqr"])["memo"] == body["reference"]
    assert body["amount"] == 15000
    assert body["breakdown"][0]["quantity"] == 1
    assert client.get(f"/api/v1/payments/{body['reference']}").status_code == 401
    stranger = token_for(other_citizen)
    assert client.get(f"/api/v1/payments/{body['reference']}", headers=stranger).status_code == 404
    assert (
        client.post(
            "/api/v1/payments",
            {"dossier": dossier.code},
            content_type="application/json",
            headers=stranger,
        ).status_code
        == 404
    )
    mine = client.get(f"/api/v1/payments/{body['reference']}", headers=token_for(citizen))
    assert mine.json()["state"] == "pending"
    free = dossier_submit(submission=submission(citizen))  # birth registration: no fee
    refused = client.post("/api/v1/payments", {"dossier": free.code},
                          content_type="application/json", headers=token_for(citizen))  # fmt: skip
    assert refused.status_code == 422


# --- pages -----------------------------------------------------------------------------------


def test_the_citizen_sees_the_vietqr_and_the_accountant_sees_every_notification(
    client: Client, login_client: Any, citizen: Any, bank: SimulatedBank, vi: None
) -> None:
    dossier = waiting_for_payment(citizen)
    payment = pending(dossier)
    mine = login_client(citizen)
    page = mine.get(f"/ho-so-cua-toi/{dossier.public_id}/").content.decode()
    assert payment.reference in page
    assert "<svg" in page  # the VietQR on the dossier page too
    notice = mine.get(f"/thanh-toan/{payment.reference}/")
    html = notice.content.decode()
    assert notice.status_code == 200
    assert "<svg" in html
    assert payment.vietqr() in html
    assert "30.000" in html
    assert (
        login_client(user("038090000002")).get(f"/thanh-toan/{payment.reference}/").status_code
        == 404
    )
    bank.pay(payment.vietqr(), amount=1000)  # held
    client.generic("POST", "/api/v1/payments/callback", b"{}", content_type="application/json")
    accountant = login_client(user("ketoan.hacthanh"))
    html = accountant.get("/can-bo/thanh-toan/").content.decode()
    assert payment.reference in html
    assert "Số tiền không khớp" in html  # held for review
    assert "giả mạo hoặc thiếu" in html  # the unsigned notification is there too
    assert login_client(user("tiepnhan.hacthanh")).get("/can-bo/thanh-toan/").status_code == 403
    answer = accountant.post(
        f"/can-bo/thanh-toan/{payment.reference}/hoan-tien/",
        {"amount": "1000", "reason": "Chuyển sai số tiền"},
    )
    assert answer.status_code == 302
    payment.refresh_from_db()
    assert payment.review == Review.NONE
    assert payment.refunds.get().amount == 1000
    # The citizen pays the right amount; the receipt is on their page.
    bank.pay(payment.vietqr())
    receipt = mine.get(f"/thanh-toan/{payment.reference}/bien-lai/")
    assert receipt["Content-Type"] == "application/pdf"
    assert pdf_verify(receipt.content).ok


def test_the_simulated_bank_exists_only_in_the_demo(
    client: Client, login_client: Any, citizen: Any, settings: Any
) -> None:
    payment = pending(waiting_for_payment(citizen))
    notice = f"/thanh-toan/{payment.reference}/"
    settings.TINHSO_DEMO = False
    assert client.get("/ngan-hang-mo-phong/").status_code == 404
    assert "/ngan-hang-mo-phong/" not in login_client(citizen).get(notice).content.decode()
    settings.TINHSO_DEMO = True
    page = client.get("/ngan-hang-mo-phong/", HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200
    assert 'id="demo-banner"' in page.content.decode()
    assert "/ngan-hang-mo-phong/" in login_client(citizen).get(notice).content.decode()
    bad = client.post("/ngan-hang-mo-phong/", {"payload": "000201not a vietqr"})
    assert bad.status_code == 422


def test_the_demo_has_paid_pending_and_expired_payments_with_receipts() -> None:
    from tinhso.dossiers.demo import demo_dossiers_seed
    from tinhso.payments.demo import demo_payments_seed

    demo_dossiers_seed()
    assert demo_payments_seed() >= 3
    states = set(Payment.objects.values_list("state", flat=True))
    assert {PaymentState.SUCCEEDED, PaymentState.PENDING, PaymentState.EXPIRED} <= states
    paid = Payment.objects.get(state=PaymentState.SUCCEEDED)
    assert paid.receipt is not None
    assert paid.dossier.status == DossierStatus.PROCESSING  # it moved on when paid
    for payment in Payment.objects.all():
        assert VietQRParser.verify_checksum(payment.vietqr())


def test_the_daily_reconciliation_lists_every_difference(
    citizen: Any, bank: SimulatedBank, login_client: Any, tmp_path: Any, vi: None
) -> None:
    from django.core.management import call_command

    good = pending(waiting_for_payment(citizen))
    bank.pay(good.vietqr(), transaction_id="FT-OK")
    held = pending(waiting_for_payment(citizen))
    bank.pay(held.vietqr(), transaction_id="FT-HELD", amount=100)
    bank.notify(reference="TSNOTOURS", amount=5000, transaction_id="FT-ONLY-US")
    statement = (
        "\ufefftransaction_id;reference;amount\n"
        f"FT-OK;{good.reference};30.000\n"
        f"FT-HELD;{held.reference};100\n"
        "FT-ONLY-BANK;TSXYZ;45000\n"
    ).encode()
    path = tmp_path / "sao-ke.csv"
    path.write_bytes(statement)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("reconcile", str(path), stdout=out)
    assert exited.value.code == 1
    text = out.getvalue()
    assert "1 matched" in text
    assert "missing_in_platform  FT-ONLY-BANK" in text
    assert "missing_in_bank      FT-ONLY-US" in text
    assert "not_credited         FT-HELD" in text
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = login_client(user("ketoan.hacthanh")).post(
        "/can-bo/thanh-toan/doi-soat/",
        {"day": timezone.localdate().isoformat(),
         "statement": SimpleUploadedFile("sao-ke.csv", statement, content_type="text/csv")},
    )  # fmt: skip
    html = page.content.decode()
    assert page.status_code == 200
    assert "Có trong sao kê, chưa nhận thông báo" in html
    bad = login_client(user("ketoan.hacthanh")).post(
        "/can-bo/thanh-toan/doi-soat/",
        {"day": timezone.localdate().isoformat(),
         "statement": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")},
    )  # fmt: skip
    assert bad.status_code == 302


def test_figures_count_dossiers_paid_online_the_amount_and_the_cashless_share(
    client: Client, citizen: Any, bank: SimulatedBank
) -> None:
    online = pending(waiting_for_payment(citizen, copies=3))
    bank.pay(online.vietqr())
    counter = waiting_for_payment(citizen)
    act(counter, "chuyenvien.hacthanh", "paid", note="Nộp tiền mặt tại quầy")
    hac_thanh = online.agency
    today = timezone.localdate().isoformat()
    figures = client.get(f"/api/v1/figures?agency={hac_thanh.code}&start={today}&end={today}")
    expected = {
        "paid_online": 1, "paid_otherwise": 1, "amount_collected": 45000, "cashless_share": 0.5,
    }  # fmt: skip
    assert figures.json()["payments"] == expected
    # Read from the rollups (no scan of the payments), equal to the scan, and rebuilt alike.
    from datetime import date

    from tinhso.agencies.selectors import AgencyTree
    from tinhso.core.indicators import Scope
    from tinhso.dossiers.rollups import rollups_rebuild
    from tinhso.payments.figures import payment_figures, payment_figures_direct

    day = date.fromisoformat(today)
    scope = Scope(AgencyTree(hac_thanh), day, day)
    assert dict(payment_figures(scope)) == dict(payment_figures_direct(scope)) == expected
    rollups_rebuild()
    assert dict(payment_figures(Scope(AgencyTree(hac_thanh), day, day))) == expected


def test_a_stopped_dossier_cancels_its_payment_and_late_money_is_held(
    citizen: Any, bank: SimulatedBank
) -> None:
    dossier = waiting_for_payment(citizen)
    payment = pending(dossier)
    act(dossier, "lanhdao.hacthanh", "stop", note="Người yêu cầu đề nghị dừng")
    payment.refresh_from_db()
    assert payment.state == PaymentState.CANCELLED
    assert payment.events.filter(to_state=PaymentState.CANCELLED).exists()
    assert json.loads(bank.pay(payment.vietqr())[1])["result"] == "late"
    payment.refresh_from_db()
    assert (payment.state, payment.review) == (PaymentState.CANCELLED, Review.PAID_AFTER_EXPIRY)


def test_the_fee_is_shown_with_its_breakdown_from_submission_and_can_be_paid_then(
    login_client: Any, citizen: Any, bank: SimulatedBank, vi: None
) -> None:
    dossier = dossier_submit(submission=fee_submission(citizen, copies=2))
    mine = login_client(citizen)
    html = mine.get(f"/ho-so-cua-toi/{dossier.public_id}/").content.decode()
    assert "Lệ phí cấp Giấy xác nhận tình trạng hôn nhân" in html
    assert "Tổng số tiền phải nộp" in html
    assert "30.000" in html
    answer = mine.post(f"/ho-so-cua-toi/{dossier.public_id}/thanh-toan/")
    assert answer.status_code == 302
    payment = pending(dossier)
    assert answer["Location"] == f"/thanh-toan/{payment.reference}/"
    assert json.loads(bank.pay(payment.vietqr())[1])["result"] == "credited"
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.NEW  # paid up front: nothing to move on
    html = mine.get(f"/ho-so-cua-toi/{dossier.public_id}/").content.decode()
    assert "Tổng số tiền phải nộp" not in html
    assert "Biên lai điện tử (PDF)" in html
    free = dossier_submit(submission=submission(citizen))
    assert "Phí, lệ phí" not in mine.get(f"/ho-so-cua-toi/{free.public_id}/").content.decode()


def test_a_citizen_whose_wrong_amount_arrived_is_told_so_not_asked_again(
    citizen: Any, bank: SimulatedBank, login_client: Any
) -> None:
    dossier = waiting_for_payment(citizen)
    payment = pending(dossier)
    mine = login_client(citizen)
    before = mine.get(f"/ho-so-cua-toi/{dossier.public_id}/", HTTP_ACCEPT_LANGUAGE="vi")
    assert "<svg" in before.content.decode()  # the VietQR to pay with
    bank.pay(payment.vietqr(), amount=3000)
    for path in (f"/ho-so-cua-toi/{dossier.public_id}/", f"/thanh-toan/{payment.reference}/"):
        page = mine.get(path, HTTP_ACCEPT_LANGUAGE="vi")
        html = page.content.decode()
        assert page.status_code == 200
        assert "Khoản chuyển khoản của bạn đã đến" in html
        assert "Chờ thanh toán" not in html
        assert "<svg" not in html  # no QR inviting a second transfer
        assert "Thanh toán phí bằng VietQR" not in html
    # Once the accountant has sent it back, the fee can be paid again.
    refund_record(payment=payment, amount=3000, reason="Sai số tiền", actor=user("ketoan.hacthanh"))
    after = mine.get(f"/ho-so-cua-toi/{dossier.public_id}/", HTTP_ACCEPT_LANGUAGE="vi")
    assert "<svg" in after.content.decode()
