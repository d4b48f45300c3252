"""servegraph.featurestore"""
