"""Counter and postal intake: a receiver registers a dossier for a citizen found in the
population registry; it is accepted at once and BM.01 is issued on the spot."""

from __future__ import annotations

from django.db import transaction

from tinhso.accounts.models import User, UserKind
from tinhso.accounts.registry import IdentityProfile
from tinhso.core.audit import audit_record
from tinhso.core.privacy import mask_personal_id
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.services import Submission, dossier_submit
from tinhso.dossiers.transitions import dossier_act


def citizen_for_intake(*, profile: IdentityProfile, official: User) -> User:
    """The citizen's account, made from the registry if they have none yet (no password:
    they sign in with their e-identity later); an existing account's identity is refreshed
    from the registry, which wins over anything kept earlier."""
    user = User.objects.filter(personal_id=profile.personal_id).first()
    if user is not None:
        identity = {
            "full_name": profile.full_name, "date_of_birth": profile.date_of_birth,
            "sex": profile.sex, "permanent_address": profile.permanent_address,
        }  # fmt: skip
        changed = [k for k, v in identity.items() if v not in (None, "") and getattr(user, k) != v]
        if changed:
            for key in changed:
                setattr(user, key, identity[key])
            with transaction.atomic():
                user.save(update_fields=changed)
                audit_record(
                    actor=official, action="account.identity_refreshed", obj=user,
                    data={"via": "counter", "fields": changed},
                )  # fmt: skip
        return user
    with transaction.atomic():
        user = User(
            username=profile.personal_id, personal_id=profile.personal_id, kind=UserKind.CITIZEN,
            full_name=profile.full_name, date_of_birth=profile.date_of_birth, sex=profile.sex,
            permanent_address=profile.permanent_address, phone=profile.phone, email=profile.email,
        )  # fmt: skip
        user.set_unusable_password()
        user.save()
        audit_record(
            actor=official,
            action="user.created",
            obj=user,
            data={"via": "counter", "username": mask_personal_id(user.username)},
        )
    return user


def dossier_register_at_counter(
    *, submission: Submission, receiver: User, note: str = ""
) -> Dossier:
    """Register and accept a walk-in (channel 1) or postal (channel 3) dossier in one
    transaction; nothing is kept, files included, if either step fails."""
    with transaction.atomic():
        dossier = dossier_submit(submission=submission)
        return dossier_act(
            dossier=dossier, actor=receiver, action="accept", version=dossier.version, note=note
        )
