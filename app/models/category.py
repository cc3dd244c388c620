"""The crime-category catalog complaints are classified with (CEAD 2024 taxonomy).

Seeded from `data/categories.csv` by the complaints migration; `vigia categories load`
upserts a revised file. See data/SOURCES.md for how the codes and flags were chosen.
"""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class CrimeFamily(Base):
    __tablename__ = "crime_family"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class CrimeCategory(Base):
    __tablename__ = "crime_category"

    code: Mapped[str] = mapped_column(
        String(10), primary_key=True, comment="5 dígitos = subgrupo CEAD; 3 = código Vigía"
    )
    name: Mapped[str] = mapped_column(String(200))
    family_code: Mapped[str] = mapped_column(
        ForeignKey("crime_family.code", ondelete="RESTRICT"), index=True
    )
    taxonomy_version: Mapped[str] = mapped_column(String(20))
    dmcs: Mapped[bool] = mapped_column(comment="En el conjunto DMCS heredado (hasta 2023)")
    sensitive: Mapped[bool] = mapped_column(comment="Nunca se publica bajo el nivel comunal")
    violent: Mapped[bool]
    drug_kind: Mapped[str | None] = mapped_column(String(20))
    cead_series: Mapped[str | None] = mapped_column(String(200))
