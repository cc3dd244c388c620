"""Reports and indicators (issue #8): council bulletin, SPD progress report, annual report,
before/after evaluation of interventions. Staff versions; the public cuenta pública passes
through the privacy rules (see progress.public_version and reports/public.py).
"""
