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
    train); train gets the rest. Sizes that leave a split empty raise a ValueError naming them.
    """
    check_sizes(len(pairs), validation_size, test_size)
    groups = {}
    for source, target in pairs:
        groups.setdefault(source, []).append((source, target))
    sources = sorted(groups)
    random.Random(seed).shuffle(sources)
    splits, position = [], 0
    for size in (test_size, validation_size):
        taken = []
        while len(taken) < size and position < len(sources):
            taken.extend(groups[sources[position]])
            position += 1
        splits.append(taken[:size])
    train = [pair for source in sources[position:] for pair in groups[source]]
    if len(splits[0]) < test_size or len(splits[1]) < validation_size or not train:
        raise ValueError(f"test_size={test_size} and validation_size={validation_size} must be "
                         f"filled by whole groups of pairs sharing a source and leave some for "
                         f"training; the {len(pairs)} pairs have {len(sources)} distinct source "
                         f"sentences")
    return Splits(train=train, validation=splits[1], test=splits[0])


def split_examples(examples, validation_size, test_size, seed, minimum_test_size=1):
    """Shuffles `examples` with `seed`, then cuts test, validation and train from them.
    `minimum_test_size=0` allows test_size=0 (when the test set comes from elsewhere)."""
    examples = list(examples)
    check_sizes(len(examples), validation_size, test_size, minimum_test_size)
    random.Random(seed).shuffle(examples)
    test, rest = examples[:test_size], examples[test_size:]
    return Splits(train=rest[validation_size:], validation=rest[:validation_size], test=test)


def first_training_examples(splits, train_size):
    """`splits` with only the first `train_size` training examples (all with None); a size
    outside [1, len(splits.train)] raises a ValueError."""
    if train_size is not None:
        if not 0 < train_size <= len(splits.train):
            raise ValueError(f"train_size must be in [1, {len(splits.train)}] (the training "
                             f"examples there are); received train_size={train_size}")
        splits.train = splits.train[:train_size]
    return splits


def check_sizes(count, validation_size, test_size, minimum_test_size=1):
    """Raises ValueError unless the held-out sizes are at least 1 (test: `minimum_test_size`)
    and leave training examples of the `count`."""
    for name, size, minimum in (("validation_size", validation_size, 1),
                                ("test_size", test_size, minimum_test_size)):
        if size < minimum:
            raise ValueError(f"{name} must be >= {minimum}; received {name}={size}")
    if validation_size + test_size >= count:
        raise ValueError(f"validation_size={validation_size} + test_size={test_size} must leave "
                         f"training examples of the {count}; received {count} examples")
