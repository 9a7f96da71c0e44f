"""The bundled sample project: a tiny blog whose schema migtui migrates."""
