"""Expressions of two unrelated models cannot be combined."""

from models import Post, User

# E[all]: Unsupported operand types for & ("Expr[User]" and "Expr[Post]")  [operator]
expr = (User.f.age == 1) & (Post.f.author_id == 2)
# E[all]: Unsupported operand types for | ("Expr[Post]" and "Expr[User]")  [operator]
other = (Post.f.title == "x") | (User.f.name == "y")
