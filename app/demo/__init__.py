"""Synthetic demonstration data (complaints, risk factors), always marked `demo`, with a
planted truth (app/demo/planted.py), a database-free world per seed (app/demo/world.py) and
`vigia demo-data`.
"""
