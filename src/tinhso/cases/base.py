"""The abstract model of every record a workflow moves (kept apart from cases.models so the
engine's registries can name it without importing the stored workflows)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Case(models.Model):
    """The part of a record that the workflow engine (cases.transitions) moves: where it is
    in its workflow, the version every transition names (optimistic locking), who it is
    assigned to, and its clock: the due time set when the clock starts, the due time of the
    current step, and since when the clock is stopped (a supplement or a payment awaited).
    A module's model inherits it and adds its own status codes and data."""

    # Raised by every transition; a transition names the version it saw (optimistic lock).
    version = models.PositiveIntegerField(default=1)
    state = models.CharField(_("workflow state"), max_length=32, blank=True, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_%(class)ss",
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    step_due_at = models.DateTimeField(_("step due"), null=True, blank=True)
    paused_at = models.DateTimeField(_("clock stopped at"), null=True, blank=True)

    class Meta:
        abstract = True


class CaseMove(models.Model):
    """One move of a case, as cases.transitions writes it through the subject (its
    history): when, who, which action, the note. A module's event model inherits it and
    adds its case and its from and to statuses (and what else its history keeps)."""

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=32)
    note = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]
