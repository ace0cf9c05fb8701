"""Domain errors: what a service refuses, with the HTTP status and the code the API and the
pages answer with, and a message in the active language."""

from __future__ import annotations


class DomainError(Exception):
    """A service's refusal. `message` is for the person (translated when raised)."""

    status = 422
    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ForbiddenError(DomainError):
    status = 403
    code = "forbidden"


class NotFoundError(DomainError):
    status = 404
    code = "not_found"


class ConflictError(DomainError):
    status = 409
    code = "conflict"
