"""Rules shared by several flows that belong to neither flow alone."""
