"""Credo: an open-source credit-and-trust scoring platform.

Events from many sources go in; explained, reproducible scores come out.
"""

from credo.errors import CredoError

__version__ = "0.1.0"

__all__ = ["CredoError", "__version__"]
