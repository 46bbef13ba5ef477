"""Dispatch's HTTP API under ``/dispatch/v1``: network and technicians, work orders, the technician app,
dealers, maintenance plans, planning and reports."""

from dispatch.api.calendars import router as calendars_router
from dispatch.api.dealers import router as dealers_router
from dispatch.api.maintenance import router as maintenance_router
from dispatch.api.network import router as network_router
from dispatch.api.planning import router as planning_router
from dispatch.api.technician_app import router as technician_app_router
from dispatch.api.work_orders import router as work_orders_router

routers = [
    network_router,
    calendars_router,
    work_orders_router,
    technician_app_router,
    dealers_router,
    maintenance_router,
    planning_router,
]

__all__ = ["routers"]
