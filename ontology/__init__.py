"""Data package: the ontology files of Khadamat, found through khadamat.resources."""
