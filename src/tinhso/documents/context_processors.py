from django.http import HttpRequest


def documents_work(request: HttpRequest) -> dict[str, object]:
    """`handles_documents` for the menu (officials holding a documents role), worked out only
    when a page asks."""
    from tinhso.accounts.policies import memberships_for

    return {"handles_documents": lambda: bool(memberships_for(request.user, "documents.handle"))}
