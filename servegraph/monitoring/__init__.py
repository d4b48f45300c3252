"""servegraph.monitoring"""
