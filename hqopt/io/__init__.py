"""Problem files: read and write every supported format (one module per format)."""
