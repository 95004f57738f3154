"""The FastAPI application (installed as khadamat.api)."""
