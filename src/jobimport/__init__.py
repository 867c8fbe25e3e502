"""jobimport: import job postings from RSS feeds with an honest history of every import."""

__version__ = "0.1.0"
