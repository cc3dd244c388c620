"""Reports and indicators (issue #8): council bulletin, SPD progress report, annual report,
before/after evaluation of interventions. Staff versions only; public ones pass through
the privacy rules (see progress.public_version).
"""
