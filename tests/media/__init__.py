"""Tests of acsumgan.media: opening, decoding, sampling, encoding, thumbnails and the parts."""
