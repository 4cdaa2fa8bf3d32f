"""What writing one audit entry costs in statements, for the tests that count a page's
queries: besides the insert, reading the chain's head (the last entry's hash), and on
PostgreSQL the lock that keeps the chain a single line."""

from django.db import connection


def chain_statements():
    return 2 if connection.vendor == "postgresql" else 1
