"""Risk-terrain snapshots (issue #17): which kinds of place raise the risk of crime around
them, fitted on a grid over the comuna's settled area, stored so it can be cited.

The grid, the counts, the exposure and the features are built in PostGIS (`grid.py`,
`features.py`); the statistics are pure (`app.scoring.risk_terrain`); `service.py`
validates and stores; `store.py` reads back and renders.
"""
