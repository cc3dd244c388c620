"""Write the synthetic town's gazetteer and address corpus (app/demo/town.py) to a folder.

    python scripts/synthetic_town.py OUT_DIR [--addresses 2000] [--seed 14103]

OUT_DIR/calles.geojson and OUT_DIR/lugares.geojson load with `vigia gazetteer load`;
OUT_DIR/direcciones.csv has each address with its true point, segment and place.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from app.demo.town import address_corpus, build_town, place_features, street_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--addresses", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=14103)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    town = build_town()
    (args.out / "calles.geojson").write_text(json.dumps(street_features(town)), encoding="utf-8")
    (args.out / "lugares.geojson").write_text(json.dumps(place_features(town)), encoding="utf-8")
    with (args.out / "direcciones.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("direccion", "tipo", "lon", "lat", "segmento", "lugar"))
        for a in address_corpus(town, args.addresses, seed=args.seed):
            writer.writerow((a.text, a.kind, a.lon, a.lat, a.segment, a.place))
    print(f"{len(town.segments)} tramos, {len(town.places)} lugares, {args.addresses} direcciones")


if __name__ == "__main__":
    main()
