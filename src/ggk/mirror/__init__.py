"""ggk.mirror"""
