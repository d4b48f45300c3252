"""servegraph.graph"""
