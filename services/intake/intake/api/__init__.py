"""The intake HTTP API (``/intake/v1``)."""

from fastapi import APIRouter

routers: list[APIRouter] = []
