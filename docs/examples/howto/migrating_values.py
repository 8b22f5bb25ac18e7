"""Changing a field's type: old stored values raise DecodeError until a validator converts
them, and `reindex --migrate` stores them converted (and drops a removed field)."""

from typing import Any

from pydantic import field_validator

import typedredis
from typedredis import DecodeError, Indexed, Model


def release(version: int) -> Any:
    """The model as release ``version`` of the app defines it (each release is a new process)."""
    if version == 1:

        class Lamp(Model, key="docs_migrate_lamp"):
            name: Indexed[str]
            on: str  # "lit" / "dark"
            bulb: str  # release 2 drops it

        return Lamp

    class Lamp(Model, key="docs_migrate_lamp"):  # type: ignore[no-redef]  # release 2: a bool
        name: Indexed[str]
        on: Indexed[bool]

        if version == 3:

            @field_validator("on", mode="before")
            @classmethod
            def _from_release_1(cls, value: object) -> object:
                return {"lit": True, "dark": False}.get(value, value) if isinstance(value, str) else value

    return Lamp


def main(url: str) -> None:
    client = typedredis.connect(url)
    v1 = release(1)
    lamps = [("desk", "lit"), ("hall", "flickering"), ("porch", "dark")]
    v1.save_all([v1(name=name, on=on, bulb="E27") for name, on in lamps])

    v2 = release(2)
    try:
        v2.get_by(v2.f.name, "desk")
    except DecodeError as exc:  # never a silently wrong value
        print(exc.field, exc.key)
        #> on {docs_migrate_lamp}:0:o:1

    v3 = release(3)  # converts what release 1 stored, on every read
    print(v3.get_by(v3.f.name, "desk").on)
    #> True
    try:
        v3.reindex(migrate=True)  # builds the index on `on`, then rewrites each object
    except DecodeError as exc:  # a value the hook cannot convert still says so
        print(exc.field, exc.key)
        #> on {docs_migrate_lamp}:0:o:2
    v3.objects.filter(name="hall").delete()  # (here: deleted; it could be fixed instead)
    report = v3.reindex(migrate=True)  # resumes the build, then migrates
    print(report.built, report.migrated)
    #> ('e:on',) 2
    print(v3.objects.filter(on=True).count(), client.hkeys("{docs_migrate_lamp}:0:o:3"))
    #> 1 [b'name', b'on']


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
