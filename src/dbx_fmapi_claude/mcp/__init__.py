"""The workspace's managed MCP servers (Genie, Databricks SQL, Unity Catalog functions, AI Search,
external servers through a UC connection) in the agents: `servers.py` (the kinds, what a name or
path may be, the record's entries), `agentfiles.py` (each agent's file, by its `Agent.mcp`
writer; Claude Code's ~/.claude.json members are agents/claude/mcpjson.py's), `probe.py`
(initialize + tools/list, for doctor)."""
