from django.http import HttpRequest


def dossier_work(request: HttpRequest) -> dict[str, object]:
    """`handles_dossiers` for the menu (officials with a workflow role), worked out only
    when a page asks."""
    from tinhso.dossiers.policy import workflow_memberships

    return {"handles_dossiers": lambda: bool(workflow_memberships(request.user))}
