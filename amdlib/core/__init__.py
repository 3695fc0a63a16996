"""The search engine shared by every experiment: problems, candidates, sandbox, search, proposers."""
