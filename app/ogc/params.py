"""Path parameters and the URL base shared by the OGC features and tiles routes."""

from typing import Annotated

from fastapi import Path, Request

CollectionId = Annotated[str, Path(description="Identificador de la colección.", max_length=64)]


def ogc_base(request: Request) -> str:
    """The absolute URL of the OGC landing page, the root of every link in the documents."""
    return str(request.base_url).rstrip("/") + "/ogc"
