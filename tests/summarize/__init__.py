"""Tests of acsumgan.summarize: features, KTS, the summary, its outputs and the pipeline. The small
test videos and their fixtures are those of tests/media/conftest.py."""
