"""The catalog: what a health system offers (locations, providers, schedules, ...)."""
