#!/usr/bin/env python3
"""Build data/barrios.geojson (comuna + barrios + micro-barrios) for Vigía.

Usage:  python3 scripts/build_territory.py [SOURCE_DIR]
        SOURCE_DIR defaults to ../shared/data/lanco relative to the repo root.
Needs:  shapely >= 2.0, pyproj (pip install shapely pyproj).

Reads the CC0-derived candidate polygons of /work/shared/data/lanco (see
data/SOURCES.md) and writes one RFC 7946 FeatureCollection with, in order:
1 comuna, 5 barrios, 19 micro-barrios. Geometry rules:
  * lon/lat (EPSG:4326), no "crs" member, every geometry a MultiPolygon,
    coordinates on a 1e-6 degree grid (6 decimals), valid, exterior rings CCW;
  * each barrio is clipped to the comuna and each micro-barrio to its parent
    barrio, and siblings are made disjoint (earlier code wins), all with
    overlay operations on the same 1e-6 grid so that rounding cannot create
    slivers outside the parent or overlaps between siblings.
Micro-barrio population is an estimate: the parent barrio's Censo 2017
population split in proportion to the number of census blocks (manzanas) in
each micro-barrio, largest-remainder rounding so children add up exactly.
The script prints quality figures for the source and for the final file.
"""

import csv
import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.polygon import orient

GRID = 1e-6  # degrees; 6 decimals (about 0.11 m north-south, 0.08 m east-west here)
REPO = Path(__file__).resolve().parent.parent
SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data" / "lanco"
OUT = REPO / "data" / "barrios.geojson"

COMUNA_PROPS = {
    "level": "comuna",
    "code": "14103",
    "name": "Lanco",
    "parent": None,
    "population": 16752,
    "population_estimated": False,
    "region": "Los Ríos",
    "region_code": "14",
    "province": "Valdivia",
}

# Metric CRS for checks: WGS 84 / UTM zone 18S (Lanco is at about 72.8 W, 39.4 S).
_utm = Transformer.from_crs("EPSG:4326", "EPSG:32718", always_xy=True)


def to_metric(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(_utm.transform(xy[:, 0], xy[:, 1])))


def load(name):
    with open(SRC / name, encoding="utf-8") as f:
        return json.load(f)["features"]


def polygonal(geom):
    """Valid MultiPolygon made of the polygonal parts of geom (drops points/lines)."""
    geom = shapely.make_valid(geom)
    parts = []
    for g in getattr(geom, "geoms", [geom]):
        if isinstance(g, Polygon) and not g.is_empty:
            parts.append(g)
        elif isinstance(g, MultiPolygon):
            parts.extend(g.geoms)
        elif hasattr(g, "geoms"):  # nested GeometryCollection
            parts.extend(polygonal(g).geoms)
    return MultiPolygon([orient(p, 1.0) for p in parts])


def on_grid(geom):
    return polygonal(shapely.set_precision(shapely.make_valid(geom), GRID))


def clip(child, parent, siblings_so_far):
    """child ∩ parent − (earlier siblings), computed on the 1e-6 grid."""
    g = shapely.intersection(child, parent, grid_size=GRID)
    if siblings_so_far is not None and not siblings_so_far.is_empty:
        g = shapely.difference(g, siblings_so_far, grid_size=GRID)
    return polygonal(g)


def largest_remainder(total, weights):
    quotas = [total * w / sum(weights) for w in weights]
    ints = [math.floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: quotas[i] - ints[i], reverse=True)
    for i in order[: total - sum(ints)]:
        ints[i] += 1
    return ints


def short_name(nombre):
    """'Lanco Centro-Poniente (zona censal 001)' -> 'Lanco Centro-Poniente'."""
    return nombre.split(" (")[0].strip()


COMPASS = [
    "Oriente",
    "Nororiente",
    "Norte",
    "Norponiente",
    "Poniente",
    "Surponiente",
    "Sur",
    "Suroriente",
]


def compass(dx, dy):
    return COMPASS[int(((math.degrees(math.atan2(dy, dx)) + 22.5) % 360) // 45)]


def micro_names(micros):
    """Descriptive name: parent name + compass sector of the micro-barrio's centroid
    relative to the centroid of all micro-barrios of that barrio (urban extent), e.g.
    "Malalhue, sector Oriente"; when two share a sector the code suffix is added."""
    names = {}
    by_parent = {}
    for m in micros:
        by_parent.setdefault(m["parent"], []).append(m)
    for _parent, ms in by_parent.items():
        centre = to_metric(shapely.union_all([m["geom"] for m in ms])).centroid
        dirs = {}
        for m in ms:
            c = to_metric(m["geom"]).centroid
            d = math.hypot(c.x - centre.x, c.y - centre.y)
            dirs[m["code"]] = "Centro" if d < 150 else compass(c.x - centre.x, c.y - centre.y)
        counts = Counter(dirs.values())
        for m in ms:
            d = dirs[m["code"]]
            suffix = f" ({m['code'][-2:]})" if counts[d] > 1 else ""
            names[m["code"]] = f"{m['parent_name']}, sector {d}{suffix}"
    return names


def report(title, comuna, barrios, micros):
    """Print containment / overlap figures in m² and m (UTM 18S)."""
    cm = to_metric(comuna)
    bm = {b["code"]: to_metric(b["geom"]) for b in barrios}
    mm = {m["code"]: to_metric(m["geom"]) for m in micros}

    def max_vertex_out(child, parent):
        pts = shapely.get_coordinates(child)
        return max(parent.distance(shapely.Point(x, y)) for x, y in pts)

    def max_overlap(geoms):
        best, pair = 0.0, None
        items = list(geoms.items())
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                a = items[i][1].intersection(items[j][1]).area
                if a > best:
                    best, pair = a, (items[i][0], items[j][0])
        return best, pair

    print(f"\n== {title} ==")
    print(f"comuna area {cm.area / 1e6:.2f} km2; valid={comuna.is_valid}")
    worst_vertex = 0.0
    for b in barrios:
        g = bm[b["code"]]
        out, dv = g.difference(cm).area, max_vertex_out(g, cm)
        worst_vertex = max(worst_vertex, dv)
        print(
            f"  barrio {b['code']:7s} area {g.area / 1e4:9.1f} ha  outside comuna {out:10.3f} m2"
            f"  max vertex outside {dv:7.3f} m  valid={b['geom'].is_valid}"
        )
    for m in micros:
        g, p = mm[m["code"]], bm[m["parent"]]
        out, dv = g.difference(p).area, max_vertex_out(g, p)
        worst_vertex = max(worst_vertex, dv)
        print(
            f"  micro {m['code']:10s} area {g.area / 1e4:7.1f} ha  outside {m['parent']} {out:10.3f} m2"
            f"  max vertex outside {dv:7.3f} m  valid={m['geom'].is_valid}"
        )
    gaps = {
        b["code"]: bm[b["code"]]
        .difference(shapely.union_all([mm[m["code"]] for m in micros if m["parent"] == b["code"]]))
        .area
        for b in barrios
        if any(m["parent"] == b["code"] for m in micros)
    }
    ob, pb = max_overlap(bm)
    om, pm = max_overlap(mm)
    comuna_gap = cm.difference(shapely.union_all(list(bm.values()))).area
    print(f"max pairwise overlap barrios:       {ob:.3f} m2 {pb or ''}")
    print(f"max pairwise overlap micro-barrios: {om:.3f} m2 {pm or ''}")
    print(f"max distance child vertex outside its parent: {worst_vertex:.3f} m")
    print(
        f"comuna area not covered by barrios: {comuna_gap:.1f} m2; barrio area not covered by "
        "micro-barrios: " + ", ".join(f"{k} {v:.1f} m2" for k, v in gaps.items())
    )
    return worst_vertex, ob, om


def census_zone_population():
    pop = Counter()
    with open(
        SRC / "lanco_censo2017_poblacion_zonas_localidades_por_edad.csv", encoding="utf-8"
    ) as f:
        for row in csv.DictReader(f):
            pop[row["geocodigo"]] += int(row["poblacion"])
    return pop


def main():
    comuna_src = shape(load("comuna.geojson")[0]["geometry"])
    barrios_src = [
        {
            "code": f["properties"]["barrio_id"],
            "props": f["properties"],
            "geom": shape(f["geometry"]),
        }
        for f in load("barrios_candidatos.geojson")
    ]
    names = {b["code"]: short_name(b["props"]["nombre"]) for b in barrios_src}
    micros_src = [
        {
            "code": f["properties"]["micro_id"],
            "parent": f["properties"]["barrio_id"],
            "parent_name": names[f["properties"]["barrio_id"]],
            "props": f["properties"],
            "geom": shape(f["geometry"]),
        }
        for f in load("microbarrios_candidatos.geojson")
    ]
    report("source data (as read, unclipped)", comuna_src, barrios_src, micros_src)

    # --- population checks -------------------------------------------------
    zones = census_zone_population()
    urban = {
        b["props"]["geocodigo_zona_censal"]
        for b in barrios_src
        if b["props"]["geocodigo_zona_censal"]
    }
    print("\n== population (Censo 2017) ==")
    for b in barrios_src:
        z = b["props"]["geocodigo_zona_censal"]
        check = zones[z] if z else sum(v for k, v in zones.items() if k not in urban)
        flag = "ok" if check == b["props"]["pob_2017"] else "DIFFERENT"
        print(
            f"  {b['code']:7s} pob_2017={b['props']['pob_2017']:5d}  zone table={check:5d}  {flag}"
            + ("" if z else "  (rural = all non-urban geocodes of the zone table)")
        )
        n_blocks = sum(m["props"]["n_manzanas"] for m in micros_src if m["parent"] == b["code"])
        if n_blocks and n_blocks != b["props"]["n_manzanas"]:
            print(
                f"    WARNING: micro-barrio blocks {n_blocks} != barrio blocks {b['props']['n_manzanas']}"
            )
    total_b = sum(b["props"]["pob_2017"] for b in barrios_src)
    print(
        f"  sum of barrios {total_b} = zone table total {sum(zones.values())}; comuna official "
        f"{COMUNA_PROPS['population']} (difference {COMUNA_PROPS['population'] - total_b} not "
        "assigned to any zone/locality in the table)"
    )

    # --- geometry: snap, clip, de-overlap ---------------------------------
    comuna = on_grid(comuna_src)
    barrios, done = [], None
    for b in barrios_src:
        g = clip(b["geom"], comuna, done)
        barrios.append({**b, "geom": g})
        done = g if done is None else shapely.union(done, g, grid_size=GRID)
    parent_geom = {b["code"]: b["geom"] for b in barrios}
    micros, done_by_parent = [], {}
    for m in micros_src:
        done = done_by_parent.get(m["parent"])
        g = clip(m["geom"], parent_geom[m["parent"]], done)
        micros.append({**m, "geom": g})
        done_by_parent[m["parent"]] = g if done is None else shapely.union(done, g, grid_size=GRID)

    # --- population split ---------------------------------------------------
    micro_pop = {}
    for b in barrios:
        kids = [m for m in micros if m["parent"] == b["code"]]
        if kids:
            split = largest_remainder(
                b["props"]["pob_2017"], [m["props"]["n_manzanas"] for m in kids]
            )
            micro_pop.update({m["code"]: p for m, p in zip(kids, split, strict=False)})
    mnames = micro_names(micros)

    # --- write --------------------------------------------------------------
    def geometry(g):
        gj = mapping(g)
        return {
            "type": "MultiPolygon",
            "coordinates": [
                [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in poly]
                for poly in gj["coordinates"]
            ],
        }

    features = [
        {"type": "Feature", "id": "14103", "properties": COMUNA_PROPS, "geometry": geometry(comuna)}
    ]
    for b in barrios:
        features.append(
            {
                "type": "Feature",
                "id": b["code"],
                "properties": {
                    "level": "barrio",
                    "code": b["code"],
                    "name": names[b["code"]],
                    "parent": "14103",
                    "population": b["props"]["pob_2017"],
                    "population_estimated": False,
                },
                "geometry": geometry(b["geom"]),
            }
        )
    for m in micros:
        features.append(
            {
                "type": "Feature",
                "id": m["code"],
                "properties": {
                    "level": "micro_barrio",
                    "code": m["code"],
                    "name": mnames[m["code"]],
                    "parent": m["parent"],
                    "population": micro_pop[m["code"]],
                    "population_estimated": True,
                },
                "geometry": geometry(m["geom"]),
            }
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(
            {"type": "FeatureCollection", "features": features},
            f,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        f.write("\n")
    print(f"\nwrote {OUT} ({len(features)} features)")

    # --- re-read the file and check it -------------------------------------
    feats = json.load(open(OUT, encoding="utf-8"))["features"]
    geoms = {f["id"]: shape(f["geometry"]) for f in feats}
    for f in feats:
        g = geoms[f["id"]]
        assert f["geometry"]["type"] == "MultiPolygon" and g.is_valid, f["id"]
        assert all(p.exterior.is_ccw and not any(i.is_ccw for i in p.interiors) for p in g.geoms), (
            f["id"]
        )
    for m in (f for f in feats if f["properties"]["level"] == "micro_barrio"):
        print(f"  {m['id']:10s} {m['properties']['population']:5d}  {m['properties']['name']}")
    final_b = [
        {"code": f["id"], "geom": geoms[f["id"]]}
        for f in feats
        if f["properties"]["level"] == "barrio"
    ]
    final_m = [
        {"code": f["id"], "parent": f["properties"]["parent"], "geom": geoms[f["id"]]}
        for f in feats
        if f["properties"]["level"] == "micro_barrio"
    ]
    worst, ob, om = report("final file (re-read from disk)", geoms["14103"], final_b, final_m)
    assert worst <= 1.0 and ob < 1.0 and om < 1.0, "quality targets not met"
    print("OK: children inside parents within 1 m, sibling overlaps < 1 m2")


if __name__ == "__main__":
    main()
