"""servegraph.storage"""
