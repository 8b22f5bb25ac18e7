"""An expression on another model is rejected by ``query()``, with or without the plugin."""

from models import Post, User

# E[all]: Argument 1 to "query" of "Model" has incompatible type "Expr[Post]"; expected "Expr[User]"  [arg-type]
User.query(Post.f.title == "x")
