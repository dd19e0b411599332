"""Pretrain a text encoder as a masked language model: see attention_zoo/recipes/pretraining.py.

    python recipes/pretrain_encoder.py --help
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo.recipes.pretraining import main  # noqa: E402

if __name__ == "__main__":
    main()
