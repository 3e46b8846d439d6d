"""Neural-network building blocks: layers, losses, initialisers (``gg.nn``)."""

from . import functional

__all__ = ["functional"]
