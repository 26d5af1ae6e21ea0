"""Database: engine, sessions, declarative base."""
