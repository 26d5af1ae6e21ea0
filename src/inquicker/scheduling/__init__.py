"""Schedule management (SPEC section 12): operators change hours, exceptions, blocked
ranges, capacity, grid and lead time; every change is previewed against the booked visits
it would conflict with, and saved only with a decision for each."""
