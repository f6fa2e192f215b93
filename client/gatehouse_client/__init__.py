"""The Gatehouse API from Python: ``Client`` for pipelines and routers, ``gatehouse`` on the command line."""

from gatehouse_client.api import Client, GatehouseError, Unreachable, WaitTimeout

__all__ = ["Client", "GatehouseError", "Unreachable", "WaitTimeout"]
