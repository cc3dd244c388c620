"""All ORM models, imported here so Alembic's autogenerate sees one metadata."""

from app.models.api_key import ApiKey, Role
from app.models.base import Base
from app.models.category import CrimeCategory, CrimeFamily
from app.models.complaint import Complaint, ComplaintSource, LocationPrecision
from app.models.territory import Barrio, Comuna, MicroBarrio

__all__ = [
    "ApiKey",
    "Barrio",
    "Base",
    "Comuna",
    "Complaint",
    "ComplaintSource",
    "CrimeCategory",
    "CrimeFamily",
    "LocationPrecision",
    "MicroBarrio",
    "Role",
]
