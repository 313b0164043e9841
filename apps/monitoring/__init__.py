"""Models watched over time: stability by period, outcomes, vintages, estimated performance."""
