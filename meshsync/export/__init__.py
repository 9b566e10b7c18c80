"""Exports: curves to the files game engines and DCC tools read."""
