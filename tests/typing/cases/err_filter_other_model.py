"""``filter()`` rejects an expression on another model, with or without the plugin."""

from models import Post, User

# E[all]: Argument 1 to "filter" of "Query" has incompatible type "Expr[Post]"; expected "Expr[User]"  [arg-type]
User.query().filter(Post.f.title == "x")
