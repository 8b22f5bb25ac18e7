"""Literal-typed fields accept their literals (the value is inferred in the field's context)."""

from models import User

User.query(User.f.status == "active", User.f.status.in_(["active", "banned"]))
