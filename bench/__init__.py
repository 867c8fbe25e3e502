"""`make bench`: jobimport measured against the parsers and stacks a user would otherwise pick.

Entry point: `python -m bench.run [--quick]`. Benchmarks are not tests: no number fails them,
but a benchmark that cannot run makes the run exit non-zero.
"""
