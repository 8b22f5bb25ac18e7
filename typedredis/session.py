"""Which executor runs the operations of which model (set by `typedredis.connect`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ConfigurationError
from .plan import Executor

if TYPE_CHECKING:
    from .model import Model

_default: Executor | None = None
_bound: dict[type[Model], Executor] = {}


def bind(executor: Executor, models: tuple[type[Model], ...] = ()) -> None:
    """Use ``executor`` for ``models`` (and their subclasses), or for every model if none given."""
    global _default
    if not models:
        _default = executor
    for model in models:
        _bound[model] = executor


def executor_for(model: type[Model]) -> Executor:
    """The executor bound to ``model`` (nearest in its MRO), else the default one."""
    for cls in model.__mro__:
        executor = _bound.get(cls)
        if executor is not None:
            return executor
    if _default is None:
        raise ConfigurationError(
            f"no Redis connection for {model.__qualname__}: call typedredis.connect(url_or_client) first"
        )
    return _default
