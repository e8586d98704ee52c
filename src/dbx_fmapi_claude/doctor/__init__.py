"""`dbx-fmapi doctor`: every check, PASS/WARN/FAIL/SKIP, each problem with its fix.

`checks.CHECKS` declares the checks in the order they print, each with what it requires;
`graph.walk` runs them and turns an unmet requirement into a SKIP. `report` holds the lines and
what the checks hand on to later ones; `output` prints the summary or the JSON.
"""
