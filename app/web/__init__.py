"""The planners' web map at `/`: the static page, its configuration and vendored libraries."""
