"""Idempotency-Keys move to the platform layer (ADR 0021): each IdempotencyRecord becomes a
core IdempotencyKey of the `dossiers.create` operation, with the same digest, so a key sent
before still replays. Then the old table goes."""

from django.db import migrations


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    IdempotencyRecord = apps.get_model("dossiers", "IdempotencyRecord")
    IdempotencyKey = apps.get_model("core", "IdempotencyKey")
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not IdempotencyRecord.objects.exists():
        return
    dossier, _created = ContentType.objects.get_or_create(app_label="dossiers", model="dossier")
    IdempotencyKey.objects.bulk_create(
        IdempotencyKey(user_id=r.user_id, operation="dossiers.create", key=r.key,
                       request_digest=r.request_digest, result_type=dossier,
                       result_id=r.dossier_id, created_at=r.created_at)
        for r in IdempotencyRecord.objects.iterator()
    )  # fmt: skip


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    IdempotencyRecord = apps.get_model("dossiers", "IdempotencyRecord")
    IdempotencyKey = apps.get_model("core", "IdempotencyKey")
    keys = IdempotencyKey.objects.filter(operation="dossiers.create")
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(user_id=k.user_id, key=k.key, request_digest=k.request_digest,
                          dossier_id=k.result_id, created_at=k.created_at)
        for k in keys.iterator()
    )  # fmt: skip
    keys.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0009_idempotency_keys"),
        ("dossiers", "0012_daily_sequences_to_core"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="IdempotencyRecord"),
    ]
