"""pydantic models stay pydantic models: construction is typed."""

from typing import reveal_type

from models import Post, User

user = User(name="ann", age=3)
reveal_type(user.name)  # N[all]: Revealed type is "builtins.str"
reveal_type(Post(title="t").author_id)  # N[all]: Revealed type is "builtins.int"
