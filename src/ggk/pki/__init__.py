"""ggk.pki"""
