"""Domain exceptions; the API turns each into one JSON error shape."""


class DomainError(Exception):
    """Base of the errors a use case raises; `status` and `code` travel to the API."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class Invalid(DomainError):
    status = 400
    code = "invalid_input"


class NotSignedIn(DomainError):
    status = 401
    code = "not_signed_in"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
