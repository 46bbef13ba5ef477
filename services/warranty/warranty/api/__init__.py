"""The warranty HTTP API (``/warranty/v1``): catalogue, units, entitlements, claims, settlements, reports."""

from fastapi import APIRouter

from warranty.api import catalogue, claims, entitlements, reports, settlements, units

routers: list[APIRouter] = [
    catalogue.router,
    units.router,
    entitlements.router,
    claims.router,
    settlements.router,
    reports.router,
]
