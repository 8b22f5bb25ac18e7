"""Changing a model: an index added to stored data is refused until reindex builds it."""

from typing import Any

import typedredis
from typedredis import Indexed, IndexNotReady, Model


def release(version: int) -> Any:
    """The model as release ``version`` of the app defines it (each release is a new process)."""

    class Paint(Model, key="docs_change_paint"):
        name: Indexed[str]
        if version >= 2:  # release 2 indexes a new field
            color: Indexed[str] = "red"

    return Paint


def main(url: str) -> None:
    typedredis.connect(url)
    v1 = release(1)
    v1.save_all([v1(name=n) for n in ("ochre", "umber", "sienna")])

    v2 = release(2)  # deployed: the stored objects have no entries in the new index
    print(v2.objects.filter(name="ochre").count())  # the indexes that were complete still are
    #> 1
    try:
        v2.objects.filter(color="red").count()  # not a silent 0: the index is incomplete
    except IndexNotReady as exc:
        print(exc.field, exc.state)
        #> color missing
        print(exc)
        #> release.<locals>.Paint.color: its equality index is not ready in Redis (not recorded: objects stored before the index was declared are not in it yet); build it online with `typedredis reindex ...

    report = v2.reindex()  # online: readers and writers go on meanwhile
    print(report.built, report.indexed)
    #> ('e:color',) 3
    print(v2.objects.filter(color="red").count())
    #> 3
    v2(name="teal", color="teal").save()
    print(v2.objects.filter(color="teal").count())  # new objects: indexed as they are saved
    #> 1


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
