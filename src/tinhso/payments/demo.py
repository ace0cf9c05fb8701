"""Demo content of the payments module: collection accounts of the demo agencies, and
dossiers whose fee was paid (through the simulated bank), is waiting, or expired."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tinhso.agencies.models import Agency, AgencyKind
from tinhso.core.demo import DemoRun
from tinhso.payments.models import PaymentAccount

# Fictional accounts at VietinBank (BIN 970415): the province's collection account, and the
# two demo communes' own.
_ACCOUNTS = [
    ("province", "970415", "VietinBank", "113000038001", "UBND TINH THANH HOA THU PHI LE PHI"),
    ("Phường Hạc Thành", "970415", "VietinBank", "113000038160", "UBND PHUONG HAC THANH"),
    ("Xã Hoằng Hóa", "970415", "VietinBank", "113000038161", "UBND XA HOANG HOA"),
]


def demo_accounts_seed() -> int:
    made = 0
    for where, bank_bin, bank, number, holder in _ACCOUNTS:
        if where == "province":
            agency = Agency.objects.filter(
                kind=AgencyKind.PEOPLES_COMMITTEE, level="province"
            ).first()
        else:
            agency = Agency.objects.filter(admin_unit_name=where).first()
        if agency is None or PaymentAccount.objects.filter(agency=agency).exists():
            continue
        PaymentAccount.objects.create(
            agency=agency, bank_bin=bank_bin, bank_name=bank, account_number=number,
            account_name=holder,
        )  # fmt: skip
        made += 1
    return made


def demo_payments_seed() -> int:
    """Of the demo dossiers waiting for payment (status 6, made by the dossiers demo), one
    is paid through the simulated bank (it moves on by itself), one expires, the others
    wait with their VietQR."""
    from tinhso.dossiers.models import Dossier
    from tinhso.payments.bank import SimulatedBank
    from tinhso.payments.models import Payment, PaymentState
    from tinhso.payments.services import notification_receive, payment_expire_due

    def deliver(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        # The same signed body a bank posts, handed to the endpoint's service in-process
        # (no server is running while the demo loads).
        received = notification_receive(body=body, headers=headers, remote_addr="demo")
        return received.status, received.outcome

    waiting = list(
        Dossier.objects.filter(status=6, payments__state=PaymentState.PENDING)
        .distinct()
        .order_by("submitted_at")
    )
    if not waiting:
        return 0
    bank = SimulatedBank(transport=deliver)
    first = Payment.objects.get(dossier=waiting[0], state=PaymentState.PENDING)
    bank.pay(first.vietqr())
    if len(waiting) > 1:
        late = Payment.objects.get(dossier=waiting[1], state=PaymentState.PENDING)
        late.created_at = timezone.now() - timedelta(days=5)
        late.expires_at = timezone.now() - timedelta(days=2)
        late.save(update_fields=["created_at", "expires_at"])
        payment_expire_due()
    return len(waiting)


def demo_payments_step(run: DemoRun) -> None:
    """After the demo dossiers: payments of those waiting for one."""
    if run.dossiers_seeded:
        demo_payments_seed()
