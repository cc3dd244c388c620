"""Prevention activities (Plan, Ámbito III and the communication strategy of II.3): the
catalogue of kinds linked to the plan's goals, each activity with its place and attendance as
counts by sex and age band (never names), imports from CSV and XLSX, evidence files, routes,
CLI (`vigia activities`) and the plan indicators computed from them.

Writes are for the executive secretary / municipal security staff (`admin` keys); planners read.
"""
