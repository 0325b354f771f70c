"""ggk.validation"""
