"""Ingestion: files -> validated DuckDB tables; documents -> parsed pages.

This is the bottom layer of Sightline: it imports no other Sightline package, and every other
package may import it (the error tree and the warehouse live here for that reason).
"""
