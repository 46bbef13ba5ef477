"""Dispatch's HTTP API under ``/dispatch/v1``: network and technicians, work orders, the technician app."""

from dispatch.api.network import router as network_router
from dispatch.api.planning import router as planning_router
from dispatch.api.work_orders import router as work_orders_router

routers = [network_router, work_orders_router, planning_router]

__all__ = ["routers"]
