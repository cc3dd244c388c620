"""Complaints counted per tile cell at the low zooms of the map, precomputed.

Below the tiles' aggregation zoom a tile of the `complaints` collection draws counts per
cell (app/ogc/tiles.py). Counting a regional comuna live means reading ~10,000 points per
tile; these rows hold the same counts, per comuna, zoom, tile, cell and institution (the
column complaint row scopes read), so an unfiltered tile sums a few hundred rows instead.
They are rebuilt per comuna (app/ogc/cells.py); triggers on `complaint` and
`crime_category` mark a comuna stale when its complaints change, and the tiles count live
until it is rebuilt, so a stale row is never drawn.
"""

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, SmallInteger, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.complaint import ComplaintSource, _values


class ComplaintCell(Base):
    __tablename__ = "complaint_cell"

    comuna_code: Mapped[str] = mapped_column(
        ForeignKey("comuna.code", ondelete="CASCADE"), primary_key=True
    )
    z: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    x: Mapped[int] = mapped_column(primary_key=True)
    y: Mapped[int] = mapped_column(primary_key=True)
    cx: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # cell column in the tile
    cy: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # cell row, from the north
    source: Mapped[ComplaintSource] = mapped_column(
        Enum(ComplaintSource, name="complaint_source", values_callable=_values, create_type=False),
        primary_key=True,
    )
    n: Mapped[int]
    n_sensitive: Mapped[int]  # of a sensitive category (audited when a tile counts them)


class ComplaintCellState(Base):
    """Whether a comuna's cells are current, and for which cell size and zooms."""

    __tablename__ = "complaint_cell_state"

    comuna_code: Mapped[str] = mapped_column(
        ForeignKey("comuna.code", ondelete="CASCADE"), primary_key=True
    )
    fresh: Mapped[bool]
    cell_px: Mapped[int]
    below_zoom: Mapped[int]
    refreshed_at: Mapped[datetime] = mapped_column(server_default=func.now())
