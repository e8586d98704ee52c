"""What the agents' sessions used and cost: their own session records, prices, budgets.

`sources.py` reads each agent's records (a registry, one reader per agent), `prices.py` the prices
and budget file, `report.py` adds them up for `dbx-fmapi usage`, `summary.py` keeps the small
cache the status line and the budget hook read (standard library only: the status line runs on
every Claude Code refresh), `sql.py` asks the workspace's system tables through a SQL warehouse.
"""
