"""ggk.hub"""
