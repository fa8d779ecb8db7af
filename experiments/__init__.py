"""Leakage-free evaluation: one cross-validation engine for every model kind, the branches that plug into it
(``graph_branch``, ``image_branch``, ``baselines``), run folders with reloadable fold pipelines, fusion,
comparison, prediction on new recordings, export, the demo and the benchmarks.

Nothing is imported here, so ``experiments.onnx_predict`` runs where PyTorch is not installed; a fold file
loads its branch's module itself (``fold_pipeline.load_pipeline``).
"""
