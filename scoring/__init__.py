"""Cloutlens scoring: items in, scores and explanations out. Imports neither Flask nor TinyDB."""
