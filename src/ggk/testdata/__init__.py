"""ggk.testdata"""
