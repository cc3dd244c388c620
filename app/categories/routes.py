from fastapi import APIRouter

from app.api.deps import SessionDep
from app.api.schemas import problem_responses
from app.categories import catalog as categories
from app.categories.schemas import CategoryRead

router = APIRouter(tags=["denuncias"])


@router.get(
    "/categories",
    operation_id="listCategories",
    response_model=list[CategoryRead],
    responses=problem_responses(503),
)
def list_categories(session: SessionDep) -> list[CategoryRead]:
    """Catálogo de categorías de delito (familias CEAD 2024, DMCS, sensibles)."""
    return [
        CategoryRead.model_validate(
            {
                **{
                    c: getattr(category, c) for c in CategoryRead.model_fields if c != "family_name"
                },
                "family_name": family_name,
            }
        )
        for category, family_name in categories.list_categories(session)
    ]
