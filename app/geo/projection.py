"""Local metric projections for measuring lengths and areas near a place."""

from collections.abc import Callable

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry


def to_local_metres(origin: BaseGeometry) -> Callable[[BaseGeometry], BaseGeometry]:
    """A function projecting WGS 84 geometries to metres around `origin`.

    An azimuthal equidistant projection centred on the area keeps distances within a
    comuna accurate to centimetres, with no UTM zone to choose.
    """
    centre = origin.centroid
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m")
    transformer = Transformer.from_crs("EPSG:4326", local, always_xy=True)

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def project(geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, _xy)

    return project
