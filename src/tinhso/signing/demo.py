"""The demo PKI (`tinhso pki_init`, and `seed_demo` on an empty platform): a root CA, an
issuing CA, a seal certificate for every agency that has officials, a personal certificate
for every leader and clerk, and the CRLs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tinhso.accounts.models import Membership
from tinhso.accounts.roles import CLERK, LEADER
from tinhso.agencies.models import Agency
from tinhso.core.demo import DemoRun
from tinhso.signing.models import Certificate, CertificateKind
from tinhso.signing.pki import Subject, certificate_issue, crl_issue

ROOT_NAME = "Tỉnh Số Demo Root CA"
ISSUING_NAME = "Tỉnh Số Demo Issuing CA"
DEMO_ORGANISATION = "Tỉnh Số (chứng thư thử nghiệm)"


def _issued_ago(days: int) -> datetime:
    # The demo's certificates date from before its oldest dossiers (and the tests' dates).
    return timezone.now() - timedelta(days=days)


def demo_ca() -> tuple[Certificate, Certificate]:
    """The demo root and issuing CA (made when missing)."""
    root = Certificate.objects.filter(kind=CertificateKind.ROOT_CA, common_name=ROOT_NAME).first()
    if root is None:
        root = certificate_issue(
            kind=CertificateKind.ROOT_CA,
            subject=Subject(ROOT_NAME, DEMO_ORGANISATION),
            issuer=None,
            key_name="root-ca",
            days=20 * 365,
            not_before=_issued_ago(2 * 365),
        )
        crl_issue(root)
    issuing = Certificate.objects.filter(
        kind=CertificateKind.ISSUING_CA, common_name=ISSUING_NAME, issuer=root
    ).first()
    if issuing is None:
        issuing = certificate_issue(
            kind=CertificateKind.ISSUING_CA,
            subject=Subject(ISSUING_NAME, DEMO_ORGANISATION),
            issuer=root,
            key_name="issuing-ca",
            days=10 * 365,
            not_before=_issued_ago(2 * 365),
        )
        crl_issue(issuing)
    return root, issuing


def seal_issue(agency: Agency, issuing: Certificate) -> Certificate:
    return certificate_issue(
        kind=CertificateKind.SEAL,
        subject=Subject(agency.name, agency.name, unit=agency.code),
        issuer=issuing,
        key_name=f"seal-{agency.code}",
        agency=agency,
        not_before=_issued_ago(365),
    )


def personal_issue(membership: Membership, issuing: Certificate) -> Certificate:
    user = membership.user
    return certificate_issue(
        kind=CertificateKind.PERSONAL,
        subject=Subject(
            user.full_name or user.username, membership.agency.name, title=membership.title
        ),
        issuer=issuing,
        key_name=f"personal-{user.username}",
        agency=membership.agency,
        user=user,
        not_before=_issued_ago(365),
    )


def demo_pki_seed() -> int:
    """Issue what is missing; returns how many certificates were made."""
    made = 0
    with transaction.atomic():
        if not Certificate.objects.filter(kind=CertificateKind.ROOT_CA).exists():
            made += 2
        _root, issuing = demo_ca()
        holders = Agency.objects.filter(memberships__is_active=True).distinct().order_by("path")
        for agency in holders:
            if not Certificate.objects.filter(
                kind=CertificateKind.SEAL, agency=agency, revoked_at__isnull=True
            ).exists():
                seal_issue(agency, issuing)
                made += 1
        signers = Membership.objects.filter(
            is_active=True, role__in=[LEADER, CLERK]
        ).select_related("user", "agency")
        for membership in signers:
            if not Certificate.objects.filter(
                kind=CertificateKind.PERSONAL,
                user=membership.user,
                agency=membership.agency,
                revoked_at__isnull=True,
            ).exists():
                personal_issue(membership, issuing)
                made += 1
    return made


def demo_revocation_seed() -> Certificate | None:
    """The demo's revoked certificate: the Hoằng Hóa chairwoman's signing device was lost
    after she had signed results, so her certificate was revoked (key compromise) and a new
    one issued. Those results show as revoked on the verification page."""
    from tinhso.core.documents import documents_issue_due
    from tinhso.signing.pki import certificate_revoke

    old = Certificate.objects.filter(
        kind=CertificateKind.PERSONAL, user__username="lanhdao.hoanghoa", revoked_at__isnull=True
    ).first()
    if old is None:
        return None
    # What the demo dossiers left to issue is issued now, while her certificate still signs:
    # with a queue, the worker would issue it after this step, with her new certificate.
    while documents_issue_due(limit=500):
        pass
    certificate_revoke(certificate=old, reason="key_compromise")
    demo_pki_seed()  # her new certificate
    return old


def demo_revocation_step(run: DemoRun) -> None:
    """After the demo dossiers: the certificate that signed some of them is revoked."""
    if run.dossiers_seeded:
        demo_revocation_seed()
