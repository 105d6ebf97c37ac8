"""The tools a user runs: the command line, completing photos, benchmarks, the study's pipeline and
the book's pages. Nothing in the library imports them."""
