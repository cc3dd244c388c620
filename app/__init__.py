"""Vigía: sistema de información territorial para la seguridad pública comunal."""

__version__ = "0.1.0"
