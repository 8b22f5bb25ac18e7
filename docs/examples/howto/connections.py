"""Connecting to Redis: a default server, a server per model, your own client."""

import redis

import typedredis
from typedredis import Indexed, Model


class Session(Model, key="docs_conn_session"):
    user: Indexed[str]


class AuditEntry(Model, key="docs_conn_audit"):
    action: Indexed[str]


class LoginAudit(AuditEntry, key="docs_conn_login_audit"):  # has its own keys
    ip: str


def main(url: str) -> None:
    # The default for every model: a URL (typedredis creates the client) or a client
    typedredis.connect(url)

    # AuditEntry and its subclasses live in database 1 of the same server; a client
    # of your own lets you choose timeouts, TLS, pool size and so on
    audit_db = redis.Redis.from_url(url, db=1, socket_timeout=2.0)
    typedredis.connect(audit_db, AuditEntry)

    Session(user="ann").save()
    LoginAudit(action="login", ip="192.0.2.1").save()

    default_db = redis.Redis.from_url(url)
    session_meta = b"{docs_conn_session}:meta"
    audit_meta = b"{docs_conn_login_audit}:meta"
    print(default_db.exists(session_meta), audit_db.exists(audit_meta))
    #> 1 1
    print(default_db.exists(audit_meta))
    #> 0

    # A client made with decode_responses=True works too: typedredis reads raw bytes
    typedredis.connect(redis.Redis.from_url(url, decode_responses=True), Session)
    print(Session.objects.filter(user="ann").count())
    #> 1


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
