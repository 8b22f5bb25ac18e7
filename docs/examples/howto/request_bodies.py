"""Accepting objects from clients: an input model without pk, insert(), and the errors to map."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

import typedredis
from typedredis import AlreadyExists, Indexed, InvalidValue, Model, Unique, UniqueViolation


# --8<-- [start:model]
class User(Model, key="docs_howto_user"):
    email: Unique[str]
    name: str
    role: Indexed[Literal["member", "admin"]] = "member"
# --8<-- [end:model]


# --8<-- [start:danger]
def the_danger() -> None:
    ann = User(email="ann@example.com", name="Ann", role="admin").insert()
    print(ann.pk)
    #> 1

    # The stored model used as the request body: the client chooses pk, and save() replaces
    body = b'{"pk": 1, "email": "eve@example.com", "name": "Eve", "role": "admin"}'
    User.model_validate_json(body).save()
    print(User.get(1).name)  # Ann's account is now Eve's
    #> Eve
    ann.save(fields=["email", "name", "role"])  # (put Ann back; a plain save() would write
    # nothing: ann has not changed since it was stored, and save() writes what changed)

    # insert() refuses a stored pk, atomically, and writes nothing
    try:
        User.model_validate_json(body).insert()
    except AlreadyExists as exc:
        print(exc)
        #> User pk=1 already exists; insert() never replaces an object (save() inserts or replaces)
        print(exc.pk, exc.field, isinstance(exc, UniqueViolation))
        #> 1 pk True
    print(User.get(1).name)
    #> Ann
# --8<-- [end:danger]


# --8<-- [start:input]
class NewUser(BaseModel):
    """What a client may send to create a user: the fields of User, without pk."""

    model_config = ConfigDict(extra="forbid")  # a "pk" in the body is an error, not ignored
    email: str
    name: str
    role: Literal["member", "admin"] = "member"


# The same, derived from User, so that the two cannot drift apart
UserIn = create_model(
    "UserIn",
    __config__=ConfigDict(extra="forbid"),
    **{name: (field.annotation, field) for name, field in User.model_fields.items() if name != "pk"},
)
# --8<-- [end:input]


# --8<-- [start:endpoints]
Response = tuple[int, dict[str, Any]]  # (HTTP status, JSON body)


def create_user(body: bytes) -> Response:
    """POST /users: the server chooses the pk."""
    try:
        new = UserIn.model_validate_json(body)
    except ValidationError as exc:
        return 422, {"errors": [{"loc": e["loc"], "type": e["type"]} for e in exc.errors()]}
    try:
        user = User(**new.model_dump()).insert()
    except UniqueViolation as exc:  # the email is taken (AlreadyExists is one too)
        return 409, {"conflict": exc.field}
    return 201, user.model_dump()


def import_user(body: bytes) -> Response:
    """PUT /users: a client that owns the ids (a sync from another system) sends the pk."""
    try:
        user = User.model_validate_json(body)
    except ValidationError as exc:
        return 422, {"errors": [{"loc": e["loc"], "type": e["type"]} for e in exc.errors()]}
    try:
        user.insert()
    except AlreadyExists as exc:
        return 409, {"conflict": "pk", "pk": exc.pk}
    except UniqueViolation as exc:
        return 409, {"conflict": exc.field}
    return 201, user.model_dump()


def list_users(role: str) -> Response:
    """GET /users?role=...: a query value straight from the URL."""
    try:
        pks = User.query(User.f.role == role).pks()
    except InvalidValue as exc:  # also a pydantic ValidationError
        return 422, {"field": exc.field, "type": exc.errors()[0]["type"]}
    return 200, {"pks": pks}
# --8<-- [end:endpoints]


# --8<-- [start:calls]
def calls() -> None:
    print(create_user(b'{"email": "bob@example.com", "name": "Bob"}'))
    #> (201, {'pk': 2, 'email': 'bob@example.com', 'name': 'Bob', 'role': 'member'})
    print(create_user(b'{"pk": 1, "email": "eve@example.com", "name": "Eve"}'))
    #> (422, {'errors': [{'loc': ('pk',), 'type': 'extra_forbidden'}]})
    print(create_user(b'{"email": "bob@example.com", "name": "Bob again"}'))
    #> (409, {'conflict': 'email'})

    print(import_user(b'{"pk": 500, "email": "cy@example.com", "name": "Cy"}'))
    #> (201, {'pk': 500, 'email': 'cy@example.com', 'name': 'Cy', 'role': 'member'})
    print(import_user(b'{"pk": 1, "email": "mallory@example.com", "name": "Mallory"}'))
    #> (409, {'conflict': 'pk', 'pk': 1})

    print(list_users("admin"))
    #> (200, {'pks': [1]})
    print(list_users("owner"))
    #> (422, {'field': 'role', 'type': 'literal_error'})
    print(User.objects.count())  # Ann, Bob and Cy: nothing else was written
    #> 3
# --8<-- [end:calls]


def main(url: str) -> None:
    typedredis.connect(url)
    the_danger()
    calls()


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
