"""The loader: submission workbooks and RDF files into the store (installed as khadamat.loader)."""
