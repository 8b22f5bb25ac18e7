"""``order_by`` refuses a field of another model, and a subclass's field on a base query."""

from models import Article, Event, Launch

# E: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Article, datetime]"; expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
# E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Article, Any]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
a = Event.query().order_by(Article.f.published)
# E: Argument 1 to "order_by" of "Query" has incompatible type "Ordering[Launch]"; expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
# E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "Ordering[Launch]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
b = Event.query().order_by(Launch.f.pad.desc())
