"""Bounding boxes from query strings: `minlon,minlat,maxlon,maxlat` in WGS 84.

One parser for every layer (the REST lists answer 422, OGC API answers 400 as its standard
says); the caller turns `BboxError.reason` into its own problem.
"""

import math

Bbox = tuple[float, float, float, float]


class BboxError(ValueError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def parse_bbox(raw: str, *, allow_3d: bool = False) -> Bbox:
    """4 finite numbers (6 with heights when `allow_3d`, which are dropped), in range."""
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        raise BboxError("se esperan 4 números separados por comas") from None
    if allow_3d and len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BboxError("se esperan 4 números finitos: minlon,minlat,maxlon,maxlat")
    minlon, minlat, maxlon, maxlat = values
    if not (-180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90):
        raise BboxError(
            "fuera de rango o invertido: se espera minlon <= maxlon en [-180, 180] y "
            "minlat <= maxlat en [-90, 90] (WGS 84 lon/lat)"
        )
    return minlon, minlat, maxlon, maxlat
