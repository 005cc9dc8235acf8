"""acsumgan: AC-SUM-GAN unsupervised video summarization (Apostolidis et al., TCSVT 2021).

The Python API mirrors the command line::

    import acsumgan as ac

    videos = ac.load_dataset("eccv16_dataset_summe_google_pool5.h5", purpose="train")
    run = ac.train(ac.TrainConfig(n_epochs=100, regularization_factor=0.5), "summe.h5", "summe_splits.json", "runs/s0")
    scorer = ac.Scorer.load("runs/s0")                   # the criterion's epoch
    result = ac.summarize_video("my_video.mp4", scorer, "out/")
    # videos in, summaries out; a model is trained on them first (none given)
    res = ac.summarize_videos(["a.mp4", "b.mp4"], "out/", ac.SummarizeOptions(budget=0.2, epochs=20))

Names are imported on first use, so ``import acsumgan`` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    # data
    "Video": "acsumgan.data.dataset",
    "load_dataset": "acsumgan.data.dataset",
    "save_dataset": "acsumgan.data.dataset",
    "validate_video": "acsumgan.data.dataset",
    "read_splits": "acsumgan.data.splits",
    "write_splits": "acsumgan.data.splits",
    "make_random_splits": "acsumgan.data.splits",
    "make_kfold_splits": "acsumgan.data.splits",
    "synth_dataset": "acsumgan.synthetic.dataset",
    "write_synth_dataset": "acsumgan.synthetic.dataset",
    "import_summe": "acsumgan.data.groundtruth",
    "import_tvsum": "acsumgan.data.groundtruth",
    # evaluation
    "knapsack": "acsumgan.evaluation.summary",
    "keyshot_summary": "acsumgan.evaluation.summary",
    "f_score": "acsumgan.evaluation.metrics",
    "evaluate_scores": "acsumgan.evaluation.metrics",
    "evaluate_rank": "acsumgan.evaluation.rank",
    "baseline_rows": "acsumgan.evaluation.baselines",
    "read_scores": "acsumgan.evaluation.scores",
    "write_scores": "acsumgan.evaluation.scores",
    # model and training
    "TrainConfig": "acsumgan.config",
    "ACSumGAN": "acsumgan.model.networks",
    "train": "acsumgan.train.trainer",
    "load_model": "acsumgan.train.checkpoint",
    "Scorer": "acsumgan.inference",
    # experiments
    "epoch_criterion": "acsumgan.selection",
    "select_experiment": "acsumgan.experiment.select",
    "write_report": "acsumgan.experiment.report",
    # videos
    "summarize_video": "acsumgan.summarize.pipeline",
    "summarize_videos": "acsumgan.summarize.pipeline",
    "SummarizeOptions": "acsumgan.summarize.options",
    "Summary": "acsumgan.summarize.summary",
    "compute_summary": "acsumgan.summarize.summary",
    "build_dataset": "acsumgan.summarize.build",
    "extract_features": "acsumgan.summarize.features",
    "get_backbone": "acsumgan.summarize.backbones",
    "kts": "acsumgan.summarize.kts",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'acsumgan' has no attribute {name!r}")
