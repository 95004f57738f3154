"""Khadamat: a knowledge graph of the service architecture of Iran's executive agencies."""

__version__ = "0.1.0"
