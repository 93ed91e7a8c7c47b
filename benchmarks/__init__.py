"""Benchmarks of waldur-orders-mock (issue 6). Run with `make bench` or `python -m benchmarks`.

Every benchmark measures its baseline in the same run and prints ratios against it:
absolute numbers on a shared machine are noise, ratios are the result.
"""
