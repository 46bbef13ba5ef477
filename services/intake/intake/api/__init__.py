"""The intake HTTP API (``/intake/v1``)."""

from fastapi import APIRouter

from intake.api import complaints, customers, email, fax, hotline, quarantine, sla, ticket_actions, tickets

routers: list[APIRouter] = [
    customers.router,
    tickets.router,
    ticket_actions.router,
    complaints.router,
    sla.router,
]
routers += [hotline.router, email.router, fax.router, quarantine.router]  # the channels
