"""The crime-category catalog (CEAD taxonomy) complaints are classified with: `catalog`,
its routes and `vigia categories`.
"""
