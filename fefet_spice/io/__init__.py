"""File readers and writers (the only layer besides the CLI that touches the file system)."""
