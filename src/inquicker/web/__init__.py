"""The request pipeline (``pipeline``, ``fast_path``, ``request``, ``responses``, ``context``,
``response_cache``) and its edges: size limits, maintenance mode, rate limits, database
trouble, and the table that turns domain errors into HTTP answers."""
