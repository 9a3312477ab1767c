"""Original protection: fingerprints of works, near-duplicate search, attribution, claims and
disputes.
"""
