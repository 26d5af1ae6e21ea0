"""InQuicker API v3: a JSON:API patient-scheduling server."""

__version__ = "0.1.0"
