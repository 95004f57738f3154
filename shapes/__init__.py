"""Data package: the shapes files of Khadamat, found through khadamat.resources."""
