"""One exception root; each class also inherits the built-in a caller would expect.

"You called it wrong" raises one of these. "The data cannot support this" is a result with a note,
and "usable but worrying" is a warning: neither is an exception.
"""

from __future__ import annotations


class InsightsError(Exception):
    """Root of every error raised on purpose by insights."""


class InvalidParameterError(InsightsError, ValueError):
    """A parameter has a value outside the allowed set."""


class DataContractError(InsightsError, ValueError):
    """An input file cannot be read as the data contract requires (the whole file is refused)."""


class MappingError(InsightsError, ValueError):
    """A column mapping file is invalid or does not fit the file it is applied to."""


class ConfigurationError(InsightsError, ValueError):
    """A setting or a file the settings point to is unusable (timezone, key file)."""


class WarehouseError(InsightsError, RuntimeError):
    """The warehouse cannot be opened or built."""


class WarehouseBusyError(WarehouseError):
    """Another process holds the warehouse file."""


class WarehouseNotFoundError(WarehouseError, FileNotFoundError):
    """The warehouse file does not exist."""


class NotFittedError(InsightsError, ValueError, AttributeError):
    """A model was asked to predict or describe itself before `fit` (the same bases as scikit-learn's)."""


def not_fitted(model: object, method: str) -> NotFittedError:
    """The one sentence for a model used before it was fitted."""
    name = type(model).__name__
    return NotFittedError(f"This {name} is not fitted yet: call {name}.fit(...) before {method}.")


class SampleRatioMismatchWarning(UserWarning):
    """Usable but worrying: the split of units across arms does not match the plan, so effects may be biased."""


def invalid_parameter(name: str, function: str, rule: str, got: object) -> InvalidParameterError:
    """Build the one sentence shape used for every parameter error.

    >>> str(invalid_parameter("kind", "ingest", "must be one of posts, chat", "pots"))
    "The 'kind' parameter of ingest must be one of posts, chat. Got 'pots' instead."
    """
    return InvalidParameterError(f"The {name!r} parameter of {function} {rule}. Got {got!r} instead.")
