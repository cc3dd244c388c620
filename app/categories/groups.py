"""Groups of CEAD 2024 categories that more than one capability counts (see
data/categories.csv): one definition, imported by the ranking (app/scoring/inputs.py) and by
the plan's indicators (app/reports/indicators.py), so "tráfico de drogas" is the same set in
both. Plain constants: importing them loads nothing else.
"""

# Ley 20.000 crimes kept apart from the public-consumption faltas, as the plan asks.
DRUG_TRAFFICKING_CODES = ("40101", "40102", "40103")  # tráfico, microtráfico, elaboración
DRUG_CONSUMPTION_CODES = ("70201", "70202", "70204")  # consumo, porte, alcohol en vía pública
