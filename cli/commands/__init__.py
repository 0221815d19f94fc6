"""The `shouwang` subcommands; each loads settings, configures logging, builds, runs."""
