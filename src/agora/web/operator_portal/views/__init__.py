"""The operator console's pages, one module per subject."""
