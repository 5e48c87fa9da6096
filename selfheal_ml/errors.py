"""The exception tree of selfheal-ml.

Every error the package raises on purpose derives from :class:`SelfHealError`, so a caller can
catch the whole family in one place::

    SelfHealError
    ├── ConfigError          a setting has a value we cannot use (exit code 2 at start-up)
    ├── StorageError         DuckDB refused a read or write, or a migration failed
    ├── ValidationError      an input (API body, batch, series) is malformed
    └── NotFittedError       an estimator was asked to predict before it was fitted

Messages name the offending thing, what was expected and what was given.
"""

from __future__ import annotations


class SelfHealError(Exception):
    """Base class of every deliberate selfheal-ml error."""


class ConfigError(SelfHealError):
    """A setting is invalid: names the setting, what was expected and what was given."""

    def __init__(self, setting: str, expected: str, given: object) -> None:
        self.setting = setting
        self.expected = expected
        self.given = given
        shown = "nothing (it is not set)" if given is None else repr(given)
        super().__init__(f"invalid setting {setting}: expected {expected}, got {shown}")


class StorageError(SelfHealError):
    """A storage operation failed (bad batch, failed migration, unreachable file)."""


class ValidationError(SelfHealError):
    """An input is malformed; ``field`` names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")

    def __reduce__(self) -> tuple[type[ValidationError], tuple[str, str]]:
        # raised in a compute worker process (api/compute.py), it crosses back pickled
        return (type(self), (self.field, self.problem))


class NotFittedError(SelfHealError):
    """An estimator was used before ``fit`` (or before it saw enough data)."""
