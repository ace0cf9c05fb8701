from django.http import HttpRequest


def accountant(request: HttpRequest) -> dict[str, object]:
    """`is_accountant` for the menu, worked out only when a page asks."""
    from tinhso.payments.selectors import accountant_agencies

    return {"is_accountant": lambda: bool(accountant_agencies(request.user))}
