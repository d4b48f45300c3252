"""servegraph.functions"""
