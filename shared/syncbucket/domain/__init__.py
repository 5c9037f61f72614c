"""Domain vocabulary: portals, modules, identifiers and the records they bring."""
