"""dbx-fmapi-claude: Claude Code against Databricks Foundation Model API."""

__version__ = "0.2.0"
