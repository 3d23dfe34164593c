"""End-to-end experiments, each a readable function from a validated config to a run folder."""
