"""Turning documents into chunks in the vector store."""
