"""The request pipeline's edges: size limits, maintenance mode, rate limits, database trouble,
and the table that turns domain errors into HTTP answers."""
