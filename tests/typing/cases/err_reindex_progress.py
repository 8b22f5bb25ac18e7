"""``progress`` is called with (done, total): a callback of another shape is refused."""

from models import User


def wrong(done: str) -> None:
    print(done)


User.reindex(progress=wrong)  # E[all]: Argument "progress" to "reindex" of "Model" has incompatible type "Callable[[str], None]"; expected "Callable[[int, int], None] | None"  [arg-type]
