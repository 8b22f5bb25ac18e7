"""An expression on a subclass cannot query the base model."""

from models import Admin, User

# E[all]: Argument 1 to "query" of "Model" has incompatible type "Expr[Admin]"; expected "Expr[User]"  [arg-type]
User.query(Admin.f.level == 1)
