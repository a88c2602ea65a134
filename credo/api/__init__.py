"""The HTTP service (``credo serve``): FastAPI is imported only when the app is built."""

from typing import TYPE_CHECKING

from credo._lazy import lazy_exports

if TYPE_CHECKING:
    from credo.api.app import create_app
    from credo.api.settings import ApiSettings

__getattr__ = lazy_exports("credo.api", {"ApiSettings": "settings", "create_app": "app"})

__all__ = ["ApiSettings", "create_app"]
