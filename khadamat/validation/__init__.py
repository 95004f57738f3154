"""SHACL validation on the store (issue 3)."""
