"""pydantic's own checks keep working next to the typedredis plugin (in either order)."""

from models import User

User(name=3)  # E[all]: Argument "name" to "User" has incompatible type "int"; expected "str"  [arg-type]
User(name="x", bogus=1)  # E[all]: Unexpected keyword argument "bogus" for "User"  [call-arg]
