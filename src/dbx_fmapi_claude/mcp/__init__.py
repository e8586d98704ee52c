"""The workspace's managed MCP servers (Genie, Databricks SQL, Unity Catalog functions, AI Search,
external servers through a UC connection) in the agents: `servers.py` (the kinds, what a name or
path may be, the record's entries), `claudejson.py` (Claude Code's ~/.claude.json members),
`probe.py` (initialize + tools/list, for doctor)."""
