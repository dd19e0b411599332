"""Run the same models on TensorFlow, JAX and PyTorch and compare them: see
attention_zoo/compare.py.

    python recipes/compare_backends.py --help
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from attention_zoo.compare import main  # noqa: E402

if __name__ == "__main__":
    main()
