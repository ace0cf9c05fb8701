"""Dossier numbering moves to the platform layer (ADR 0021): each agency's daily sequence
becomes a row of core's NumberSequence in the `dossier` register (scope: the agency's id,
period: the day), so codes issued today continue without a duplicate. Then the old table
goes."""

from django.db import migrations


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    DailySequence = apps.get_model("dossiers", "DailySequence")
    NumberSequence = apps.get_model("core", "NumberSequence")
    NumberSequence.objects.bulk_create(
        NumberSequence(register="dossier", scope=str(s.agency_id), period=s.day.isoformat(),
                       last=s.last)
        for s in DailySequence.objects.iterator()
    )  # fmt: skip


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    DailySequence = apps.get_model("dossiers", "DailySequence")
    NumberSequence = apps.get_model("core", "NumberSequence")
    sequences = NumberSequence.objects.filter(register="dossier")
    DailySequence.objects.bulk_create(
        DailySequence(agency_id=int(s.scope), day=s.period, last=s.last)
        for s in sequences.iterator()
    )
    sequences.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_number_sequences"),
        ("dossiers", "0011_issuing_step"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="DailySequence"),
    ]
