"""Extractive question answering over a folder of news pages, with citations."""

__version__ = "0.1.0"
