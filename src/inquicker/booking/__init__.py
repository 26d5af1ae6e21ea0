"""Visit settings, visit tokens, holds and visit creation."""
