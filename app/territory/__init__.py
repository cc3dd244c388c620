"""The territory a comuna is divided into (comuna > barrio > micro-barrio): loading its file
(`service`, validated by the pure `app.geo.territory`), reading it, locating points.
"""
