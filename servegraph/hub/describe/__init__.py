"""Hub function: describe a dataset."""
