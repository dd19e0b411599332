"""The embedded, offline translation corpus: English numbers and dates -> German, French or Spanish.

Cardinals come from num2words ("seventy-nine" -> "neunundsiebzig"), dates from babel in its
full, long and medium formats ("Tuesday, March 3, 2015" -> "Dienstag, 3. März 2015"), so the
targets follow each language's real rules (word order, compounding, agreement).

>>> pairs = generate(4, target_lang="de", seed=1, verbose=0)
>>> len(pairs), len({source for source, _ in pairs})
(4, 4)
>>> generate(4, target_lang="de", seed=1, verbose=0) == pairs
True
"""

import datetime
import random

import keras
from babel.dates import format_date
from num2words import num2words

from attention_zoo.data.splits import Splits

TARGET_LANGUAGES = ("de", "fr", "es")
DATE_FORMATS = ("full", "long", "medium")
FIRST_DATE, LAST_DATE = datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)
MAX_DIGITS = 6


def random_pair(rng, target_lang):
    """One (English, target) pair: a cardinal below 10**MAX_DIGITS (digit count uniform, so small
    numbers are common) or a date in a random format."""
    if rng.random() < 0.5:
        number = rng.randrange(10 ** (rng.randint(1, MAX_DIGITS)))
        return num2words(number, lang="en"), num2words(number, lang=target_lang)
    day = FIRST_DATE + datetime.timedelta(rng.randrange((LAST_DATE - FIRST_DATE).days + 1))
    style = rng.choice(DATE_FORMATS)
    source = format_date(day, style, locale="en")
    if style == "medium" and source == format_date(day, "long", locale="en"):
        style = "long"  # "May 3, 2095" is both; one source must have one translation
    return source, format_date(day, style, locale=target_lang)


def generate(size, target_lang="de", seed=0, verbose=1):
    """`size` pairs with distinct English sources, the same for the same seed."""
    if target_lang not in TARGET_LANGUAGES:
        raise ValueError(f"target_lang must be one of {TARGET_LANGUAGES}; received {target_lang!r}")
    rng, pairs, seen = random.Random(seed), [], set()
    progress = keras.utils.Progbar(size, verbose=verbose, unit_name="pair")
    while len(pairs) < size:
        source, target = random_pair(rng, target_lang)
        if source not in seen:
            seen.add(source)
            pairs.append((source, target))
            if len(pairs) % 1000 == 0 or len(pairs) == size:
                progress.update(len(pairs))
    return pairs


def load(target_lang="de", train_size=20000, validation_size=1000, test_size=2000, seed=0,
         verbose=1):
    """Train/validation/test splits; sources are distinct, so the splits are disjoint."""
    pairs = generate(train_size + validation_size + test_size, target_lang, seed, verbose)
    return Splits(train=pairs[:train_size],
                  validation=pairs[train_size:train_size + validation_size],
                  test=pairs[train_size + validation_size:])
