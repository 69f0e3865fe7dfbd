"""PortfolioBackend: a streaming chat API for AI assistants on personal and small-business sites."""

__version__ = "0.1.0"
