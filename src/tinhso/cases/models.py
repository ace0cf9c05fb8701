"""Cases and their workflows: what the platform layer keeps for every module whose records
move through steps (a dossier today; an official document, a citizen's report or an OCOP
application later). See docs/adr/0019-platform-layer.md."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from tinhso.cases.base import Case

__all__ = ["Case", "Workflow"]


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

    def save(self, *args: Any, **kwargs: Any) -> None:
        from tinhso.cases.memo import workflow_memo_end

        super().save(*args, **kwargs)
        workflow_memo_end()  # this request reads it again (cases.selectors)

    def clean(self) -> None:
        from tinhso.cases.workflow import workflow_parse

        workflow_parse(self.definition, subject=self.subject)
