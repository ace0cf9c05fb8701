"""Benchmarks run by `make bench`: each measures a platform path next to a baseline that
answers the same question in the same run (raw SQL on the same database)."""
