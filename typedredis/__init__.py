"""typedredis: typed pydantic models in Redis, with server-side indexed queries and atomic reset."""

from .connection import connect
from .errors import (
    ConfigurationError,
    DecodeError,
    NotFound,
    OutcomeUnknown,
    QueryError,
    ResetAborted,
    SchemaError,
    TypedRedisError,
    UniqueViolation,
)
from .expr import Expr, Field, Fields
from .fields import EQ, FieldSpec, Indexed, ModelSpec
from .model import Model
from .query import Query

__all__ = [
    "EQ",
    "ConfigurationError",
    "DecodeError",
    "Expr",
    "Field",
    "FieldSpec",
    "Fields",
    "Indexed",
    "Model",
    "ModelSpec",
    "NotFound",
    "OutcomeUnknown",
    "Query",
    "QueryError",
    "ResetAborted",
    "SchemaError",
    "TypedRedisError",
    "UniqueViolation",
    "connect",
]
__version__ = "0.1.0"
