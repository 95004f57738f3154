"""The browse API: services, agencies and laws (issue 5 §4), as one router for the app."""

from __future__ import annotations

from fastapi import APIRouter
from khadamat.api import agencies, laws, services

router = APIRouter()
router.include_router(services.router)
router.include_router(agencies.router)
router.include_router(laws.router)
