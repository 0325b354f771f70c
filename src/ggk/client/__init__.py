"""ggk.client"""
