"""typedredis: typed pydantic models in Redis, with server-side indexed queries and atomic reset."""

from .connection import adisconnect, connect, disconnect, using
from .errors import (
    AlreadyExists,
    ConfigurationError,
    DecodeError,
    IndexNotReady,
    InvalidValue,
    NotFound,
    OutcomeUnknown,
    QueryError,
    ReindexAborted,
    ResetAborted,
    SchemaError,
    ServerError,
    TypedRedisError,
    TypedRedisWarning,
    Unavailable,
    UniqueViolation,
)
from .expr import Expr, Field, Fields, Ordering, SortedField
from .fields import EQ, RANGE, UNIQUE, Compound, FieldSpec, Indexed, ModelSpec, Sorted, Unique
from .model import Model
from .query import Counted, Projection, Query
from .reindex import ReindexReport

__all__ = [
    "EQ",
    "AlreadyExists",
    "Compound",
    "Counted",
    "RANGE",
    "UNIQUE",
    "ConfigurationError",
    "DecodeError",
    "Expr",
    "Field",
    "FieldSpec",
    "IndexNotReady",
    "InvalidValue",
    "Fields",
    "Indexed",
    "Model",
    "ModelSpec",
    "NotFound",
    "Ordering",
    "OutcomeUnknown",
    "Projection",
    "Query",
    "QueryError",
    "ReindexAborted",
    "ReindexReport",
    "ResetAborted",
    "SchemaError",
    "ServerError",
    "Sorted",
    "SortedField",
    "TypedRedisError",
    "TypedRedisWarning",
    "Unique",
    "Unavailable",
    "UniqueViolation",
    "adisconnect",
    "connect",
    "disconnect",
    "using",
]
__version__ = "0.1.0"
