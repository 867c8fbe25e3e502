"""Ingestion stages: fetch, parse, normalize. No storage or queue imports."""
