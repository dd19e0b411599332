"""Train an encoder-decoder Transformer for translation: see
attention_zoo/recipes/transformer_translation.py.

    python recipes/transformer_translation.py --help
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo.recipes.transformer_translation import main  # noqa: E402

if __name__ == "__main__":
    main()
