"""Recipes: parse flags -> build data -> build model -> fit -> evaluate -> save.

They live in the package so that `attention-zoo train NAME` runs them wherever the package is
installed; `recipes/*.py` in the repository are the same recipes as scripts.
"""
