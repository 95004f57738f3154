"""Data package: the queries files of Khadamat, found through khadamat.resources."""
