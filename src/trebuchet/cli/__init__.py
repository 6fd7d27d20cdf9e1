"""The `trebuchet` command."""
