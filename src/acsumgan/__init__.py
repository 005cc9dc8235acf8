"""acsumgan: AC-SUM-GAN unsupervised video summarization (Apostolidis et al., TCSVT 2021)."""

__version__ = "0.1.0"
