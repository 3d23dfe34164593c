"""The data layer's error, defined with the other user errors in ganaug.errors and importable from here."""

from ganaug.errors import DataError

__all__ = ["DataError"]
