"""servegraph.streams"""
