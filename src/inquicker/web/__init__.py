"""The request pipeline's edges: size limits, maintenance mode, rate limits, database trouble."""
