"""Tutorial, install and connect: point typedredis at a Redis server."""

import redis

import typedredis


def main(url: str) -> None:
    # A URL: redis://host:6379/0, rediss://... (TLS) or unix:///path/to/redis.sock
    client = typedredis.connect(url)  # returns the redis.Redis client it made
    print(client.ping())
    #> True

    # Or a client you configured yourself (timeouts, TLS, a shared pool, ...)
    own = redis.Redis.from_url(url, socket_timeout=5, health_check_interval=30)
    typedredis.connect(own)


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
