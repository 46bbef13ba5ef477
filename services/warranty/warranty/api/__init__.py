"""The warranty HTTP API (``/warranty/v1``): catalogue, units, entitlements, claims, reports."""

from fastapi import APIRouter

from warranty.api import catalogue, claims, entitlements, reports, units

routers: list[APIRouter] = [
    catalogue.router,
    units.router,
    entitlements.router,
    claims.router,
    reports.router,
]
