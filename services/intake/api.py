"""HTTP routes of intake: thin translations from requests to commands and back, one module
per family of commands (case_routes, casework_routes, inquiry_routes), gathered here."""

from __future__ import annotations

from fastapi import APIRouter

from services.intake import case_routes, casework_routes, inquiry_routes

router = APIRouter()
for routes in (case_routes, casework_routes, inquiry_routes):
    router.include_router(routes.router)
