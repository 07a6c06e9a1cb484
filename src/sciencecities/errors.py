"""The error tree: every failure a user can meet has a class here and a message that says what to do next."""

from __future__ import annotations


class ScienceCitiesError(Exception):
    """Base of all sciencecities errors; `hint` tells the user what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def __reduce__(self) -> tuple[type[ScienceCitiesError], tuple[str, str | None]]:
        """Pickle with the hint, so that an error raised in a worker process reaches the user whole."""
        return type(self), (self.message, self.hint)


class InputError(ScienceCitiesError):
    """A path, file or option given by the user cannot be used as it is."""


class StoreError(ScienceCitiesError):
    """The store is missing, unreadable, or not in the state the command needs."""


class EditionError(ScienceCitiesError):
    """An edition file is unknown or invalid."""


class GeographyError(ScienceCitiesError):
    """A boundary set or group file is unknown or invalid, or a place cannot be given a unit."""


class EngineError(ScienceCitiesError):
    """The query engine failed while computing a table."""


class CheckError(ScienceCitiesError):
    """An invariant of the metrics (such as Share conservation) does not hold; names the offending rows."""


class QuarantineError(ScienceCitiesError):
    """Raised under --strict when records were quarantined."""
