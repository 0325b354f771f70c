"""ggk.gemeente"""
