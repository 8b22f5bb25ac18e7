"""One example of each mistake the plugin reports."""

from models import Post, User

# error: "User" has no field "nmae"  [typedredis-field]
User.query(User.f.nmae == "ann")

# error: "User.bio" is not indexed; annotate it as "bio: Indexed[...]" to query it  [typedredis-index]
User.query(User.f.bio == "likes cats")

# error: Field "User.age" holds "int" values; cannot compare it with "str"  [typedredis-value]
User.query(User.f.age == "18")

# error: Field "User.age" holds "int" values; cannot compare it with "str"  [typedredis-value]
User.query("18" == User.f.age)  # noqa: SIM300

# error: Field "User.age" holds "int" values; in_() got "list[str]"  [typedredis-value]
User.query(User.f.age.in_(["18", "19"]))

# error: Argument 1 to "query" of "Model" has incompatible type "Expr[Post]";
#        expected "Expr[User]"  [arg-type]
User.query(Post.f.title == "hello")

# error: Unsupported operand types for & ("Expr[User]" and "Expr[Post]")  [operator]
both = (User.f.name == "ann") & (Post.f.author_id == 1)
