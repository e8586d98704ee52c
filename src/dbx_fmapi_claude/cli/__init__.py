"""The command line: `main.py` (the entry points, the fast paths, one handler for every failure),
`parser.py` (the subcommand table) and `setupflags.py` (setup's flags)."""

PROG = "dbx-fmapi"
