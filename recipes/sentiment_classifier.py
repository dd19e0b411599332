"""Train an attention sentiment classifier: see attention_zoo/recipes/sentiment_classifier.py.

    python recipes/sentiment_classifier.py --help
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo.recipes.sentiment_classifier import main  # noqa: E402

if __name__ == "__main__":
    main()
