"""Near-repeat analysis of complaints: the Knox table (app/scoring/near_repeat.py) over a
comuna's complaints of one category and period, for the CLI and the API."""
