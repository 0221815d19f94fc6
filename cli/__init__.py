"""The composition root and the `shouwang` command: they sit above every role they assemble."""
