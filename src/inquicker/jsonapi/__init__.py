"""Our JSON:API layer: query parsing, documents, errors, negotiation and generic routes."""
