"""``reindex`` and ``areindex`` return a `ReindexReport`; ``progress`` takes (done, total)."""

from typing import reveal_type

from models import User


def shown(done: int, total: int) -> None:
    print(done, total)


async def rebuild() -> None:
    reveal_type(User.reindex())  # N[all]: Revealed type is "typedredis.reindex.ReindexReport"
    reveal_type(await User.areindex(progress=shown))  # N[all]: Revealed type is "typedredis.reindex.ReindexReport"
    report = User.reindex(progress=lambda done, total: None)
    built: tuple[str, ...] = report.built
    print(built, report.indexed + report.skipped)
