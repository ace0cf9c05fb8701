"""Cases and their workflows: what the platform layer keeps for every module whose records
move through steps (a dossier today; an official document, a citizen's report or an OCOP
application later). See docs/adr/0019-platform-layer.md."""

from django.conf import settings
from django.db import models
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


class Workflow(models.Model):
    """A workflow as data (cases.workflow): states, actions, roles, shares of time, effects,
    inboxes; for one subject type (the kind of case it moves). Validated as a whole before
    it is saved."""

    subject = models.CharField(_("kind of case"), max_length=32, default="dossier")
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    definition = models.JSONField(_("definition"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table dossiers made before workflows served every module (no data moved).
        db_table = "dossiers_workflow"
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from tinhso.cases.workflow import workflow_parse

        workflow_parse(self.definition, subject=self.subject)
