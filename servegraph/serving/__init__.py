"""servegraph.serving"""
