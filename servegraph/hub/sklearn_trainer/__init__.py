"""Hub function: train a scikit-learn classifier."""
