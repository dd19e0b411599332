"""Train an RNN encoder-decoder with Bahdanau attention for translation: see
attention_zoo/recipes/seq2seq_attention.py.

    python recipes/seq2seq_attention.py --help
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo.recipes.seq2seq_attention import main  # noqa: E402

if __name__ == "__main__":
    main()
