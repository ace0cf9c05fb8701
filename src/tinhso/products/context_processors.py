from django.http import HttpRequest


def products_work(request: HttpRequest) -> dict[str, object]:
    """`rates_ocop` and `inspects_stamps` for the menu (officials of the OCOP council and
    market inspectors), worked out only when a page asks."""
    from tinhso.accounts.policies import memberships_for
    from tinhso.products.subject import on_council

    return {
        "rates_ocop": lambda: on_council(request.user),
        "inspects_stamps": lambda: bool(memberships_for(request.user, "products.inspect")),
    }
