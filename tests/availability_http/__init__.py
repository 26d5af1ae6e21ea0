"""HTTP tests of GET /available-appointment-times (SPEC section 5), on both databases."""
