from django.http import HttpRequest


def report_work(request: HttpRequest) -> dict[str, object]:
    """`handles_reports` for the menu (officials with a role for citizens' reports), worked
    out only when a page asks."""
    from tinhso.accounts.policies import memberships_for

    return {"handles_reports": lambda: bool(memberships_for(request.user, "feedback.handle"))}
