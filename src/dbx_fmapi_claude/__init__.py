"""dbx-fmapi-claude: Claude Code against Databricks Foundation Model API."""

__version__ = "0.1.0"
