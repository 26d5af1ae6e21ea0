"""The operators' web console at /admin/: server-rendered Jinja2 pages (SPEC section 12)."""
