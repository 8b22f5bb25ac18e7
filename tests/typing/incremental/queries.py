"""The dependent module: its errors must change when only a marker in models.py changes."""

from models import User


def find(name: str, bio: str) -> list[User]:
    return User.query(User.f.name == name, User.f.bio == bio).all()


def adults() -> list[User]:
    return User.query(User.f.age >= 18).order_by(User.f.age).all()
