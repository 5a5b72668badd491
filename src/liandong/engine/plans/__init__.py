"""Plans: chain21, distribution, points."""
