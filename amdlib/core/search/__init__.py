"""Search strategies: funsearch (islands), eoh, eoh-e (prompt-strategy evolution), random."""
