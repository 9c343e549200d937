"""Why `lz` stops early, each with the exit code the pipeline sees."""

from __future__ import annotations

USAGE = 2
NOT_GRANTED = 3
REFUSED = 4
UNAVAILABLE = 5


class LzError(Exception):
    """A failure with a one-line message for standard error and an exit code."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(LzError):
    exit_code = USAGE


class NotGranted(LzError):
    exit_code = NOT_GRANTED


class Refused(LzError):
    """The server answered 4xx: conflict, policy, not found, forbidden, invalid."""

    exit_code = REFUSED

    def __init__(self, message: str, status: int, code: str):
        super().__init__(message)
        self.status = status
        self.code = code


class Unavailable(LzError):
    """The server could not be reached, or kept failing, after the retries."""

    exit_code = UNAVAILABLE


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; raised in the main thread by the signal handler."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
