"""Double-entry money and traffic accounts: balanced, idempotent transfers, settlement and
statements.
"""
