"""The Consejo Comunal de Seguridad Pública (Plan, Ámbito I): seats and members, sessions with
attendance, quorum and minutes, agreements (compromisos) and their follow-ups; its routes,
CLI (`vigia council`) and the plan indicators computed from them.

Writes are for the executive secretary, who holds an `admin` key (municipal security staff);
planners read. No new role: the authorisation matrix has one column per role.
"""
