"""ggk.station"""
