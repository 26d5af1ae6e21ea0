"""Sites, health systems and API keys."""
