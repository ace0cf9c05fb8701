"""Notifications to citizens and officials: SMS, e-mail and the account inbox.

Each channel has a sender behind a small contract. The embedded senders record the message
(the citizen reads it in their account); SMTP uses Django's e-mail backend; the HTTP SMS
gateway posts JSON to the URL in TINHSO_SMS_URL.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import send_mail
from django.utils import timezone

from tinhso.core.models import Notification, NotificationChannel
from tinhso.core.outbox import outbox_handler, outbox_put_many


class Sender(Protocol):
    def send(self, notification: Notification) -> None: ...


class RecordingSender:
    """Embedded: the message is recorded as delivered; it shows in the citizen's account."""

    def send(self, notification: Notification) -> None:
        return None


class EmailSender:
    def send(self, notification: Notification) -> None:
        send_mail(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient],
        )


class HttpSmsSender:
    """Posts {"to", "message"} with a bearer token to an SMS gateway."""

    def send(self, notification: Notification) -> None:
        body = json.dumps({"to": notification.recipient, "message": notification.body}).encode()
        request = urllib.request.Request(  # noqa: S310 (URL from settings)
            settings.TINHSO_SMS_URL,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.TINHSO_SMS_TOKEN}",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"SMS gateway answered {response.status}")


def sender_for(channel: str) -> Sender:
    if channel == NotificationChannel.SMS and settings.TINHSO_SMS_URL:
        return HttpSmsSender()
    if channel == NotificationChannel.EMAIL and settings.TINHSO_EMAIL_ENABLED:
        return EmailSender()
    return RecordingSender()


def notify(
    *, user: AbstractBaseUser, subject: str, body: str, link: str = ""
) -> list[Notification]:
    """Queue a message to `user` on every channel they have (inbox always, SMS with a phone,
    e-mail with an address). Call inside the transaction of the change it reports."""
    channels = [(NotificationChannel.INBOX, "")]
    # The platform's user model (accounts.User) has both; core does not import it.
    phone, email = str(getattr(user, "phone", "")), str(getattr(user, "email", ""))
    if phone:
        channels.append((NotificationChannel.SMS, phone))
    if email:
        channels.append((NotificationChannel.EMAIL, email))
    # The user model is AUTH_USER_MODEL (accounts.User), which core does not import.
    return _queue(
        Notification(
            user_id=user.pk, channel=channel, recipient=recipient, subject=subject, body=body,
            link=link,
        )
        for channel, recipient in channels
    )  # fmt: skip


def _queue(notifications: Iterable[Notification]) -> list[Notification]:
    """Write the notifications and their deliveries, each kind in one statement."""
    created = Notification.objects.bulk_create(list(notifications))
    outbox_put_many(topic="notification.send", payloads=[{"id": n.pk} for n in created])
    return created


def notify_contact(
    *, phone: str = "", email: str = "", subject: str, body: str, link: str = ""
) -> list[Notification]:
    """Queue a message to someone without an account, by SMS and/or e-mail (an anonymous
    reporter's contact for the answer). Call inside the transaction of the change."""
    return _queue(
        Notification(
            user_id=None, channel=channel, recipient=recipient, subject=subject, body=body,
            link=link,
        )
        for channel, recipient in ((NotificationChannel.SMS, phone),
                                   (NotificationChannel.EMAIL, email))
        if recipient
    )  # fmt: skip


@outbox_handler("notification.send")
def _deliver(payload: dict[str, Any]) -> None:
    notification = Notification.objects.select_for_update().get(pk=payload["id"])
    if notification.sent_at is not None:
        return  # delivered before (outbox delivery is at least once)
    sender_for(notification.channel).send(notification)
    notification.sent_at = timezone.now()
    notification.save(update_fields=["sent_at"])
