"""Consistency: `get` reads the object's hash and checks the generation, without a script."""

import redis

import typedredis
from typedredis import Model


class Article(Model, key="docs_plain_get_article"):
    title: str


def scripts_run(admin: redis.Redis) -> int:
    """Script calls the server has run so far (INFO commandstats)."""
    return int(admin.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))


def main(url: str) -> None:
    typedredis.connect(url)
    admin = redis.Redis.from_url(url)
    Article.reset([Article(pk=1, title="first edition")])

    print(Article.get(1).title)  # the model's first get runs get.lua: it learns the generation
    #> first edition
    before = scripts_run(admin)
    print(Article.get(1).title, scripts_run(admin) - before)  # then HMGET + HGET gen: no script
    #> first edition 0

    Article.reset([Article(pk=1, title="second edition")])  # a new generation (any process)
    before = scripts_run(admin)
    print(Article.get(1).title, scripts_run(admin) - before)  # gen moved: get.lua, once
    #> second edition 1
    before = scripts_run(admin)
    print(Article.get(1).title, scripts_run(admin) - before)
    #> second edition 0
    admin.close()


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
