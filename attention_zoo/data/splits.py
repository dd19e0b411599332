"""Train/validation/test splits.

>>> pairs = [(f"s{i % 50}", f"t{i}") for i in range(100)]  # each source twice
>>> splits = split_by_source(pairs, validation_size=10, test_size=20, seed=0)
>>> len(splits.train), len(splits.validation), len(splits.test)
(70, 10, 20)
>>> {s for s, _ in splits.test} & {s for s, _ in splits.train}
set()
"""

import dataclasses
import random


@dataclasses.dataclass
class Splits:
    """Examples of each split; `class_names` for classification (label i is class_names[i])."""

    train: list
    validation: list
    test: list
    class_names: list = None


def split_by_source(pairs, validation_size, test_size, seed):
    """Splits (source, target) pairs so that no source string is in two splits.

    Sources are shuffled with `seed`; test and validation take whole groups of pairs sharing a
    source until they hold exactly their size (a group cut short is dropped, not leaked into
    train); train gets the rest.
    """
    groups = {}
    for source, target in pairs:
        groups.setdefault(source, []).append((source, target))
    sources = sorted(groups)
    random.Random(seed).shuffle(sources)
    if validation_size + test_size >= len(pairs):
        raise ValueError(f"validation_size + test_size must be smaller than the {len(pairs)} "
                         f"pairs; received {validation_size} + {test_size}")
    splits, position = [], 0
    for size in (test_size, validation_size):
        taken = []
        while len(taken) < size:
            taken.extend(groups[sources[position]])
            position += 1
        splits.append(taken[:size])
    train = [pair for source in sources[position:] for pair in groups[source]]
    return Splits(train=train, validation=splits[1], test=splits[0])


def split_examples(examples, validation_size, test_size, seed):
    """Shuffles `examples` with `seed`, then cuts test, validation and train from them."""
    examples = list(examples)
    random.Random(seed).shuffle(examples)
    test, rest = examples[:test_size], examples[test_size:]
    return Splits(train=rest[validation_size:], validation=rest[:validation_size], test=test)
