"""Benchmarks of glance-lite; they print figures and assert nothing."""
