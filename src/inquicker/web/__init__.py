"""The request pipeline's edge: what turns domain outcomes into HTTP answers."""
