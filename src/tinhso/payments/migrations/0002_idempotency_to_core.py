"""Idempotency-Keys move to the platform layer (ADR 0021): each PaymentIdempotency becomes
a core IdempotencyKey of the `payments.create` operation, with the same digest; then the
old table goes."""

from django.db import migrations


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    PaymentIdempotency = apps.get_model("payments", "PaymentIdempotency")
    IdempotencyKey = apps.get_model("core", "IdempotencyKey")
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not PaymentIdempotency.objects.exists():
        return
    payment, _created = ContentType.objects.get_or_create(app_label="payments", model="payment")
    IdempotencyKey.objects.bulk_create(
        IdempotencyKey(user_id=r.user_id, operation="payments.create", key=r.key,
                       request_digest=r.request_digest, result_type=payment,
                       result_id=r.payment_id, created_at=r.created_at)
        for r in PaymentIdempotency.objects.iterator()
    )  # fmt: skip


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    PaymentIdempotency = apps.get_model("payments", "PaymentIdempotency")
    IdempotencyKey = apps.get_model("core", "IdempotencyKey")
    keys = IdempotencyKey.objects.filter(operation="payments.create")
    PaymentIdempotency.objects.bulk_create(
        PaymentIdempotency(user_id=k.user_id, key=k.key, request_digest=k.request_digest,
                           payment_id=k.result_id, created_at=k.created_at)
        for k in keys.iterator()
    )  # fmt: skip
    keys.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0009_idempotency_keys"),
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="PaymentIdempotency"),
    ]
