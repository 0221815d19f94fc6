"""Storage: the ports Shouwang's services depend on, and their adapters."""
