"""The reliability and security catalogue: bad input, faults, concurrency and secrets, one counted
case per row. docs/catalogue.md shows the counts (tests/catalogue/counts.py writes them)."""
