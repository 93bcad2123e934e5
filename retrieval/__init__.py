"""Retrieval: embeddings, the Chroma vector index, the keyword index, hybrid fusion, entitlements.

Entry point: ``retrieval.index.DocumentIndex`` (built by ``app.runtime.Runtime.documents``).
Imports only ``ingestion`` (documents are parsed and chunked there).
"""
