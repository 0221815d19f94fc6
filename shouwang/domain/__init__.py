"""The domain model: pure types and rules, standard library only."""
